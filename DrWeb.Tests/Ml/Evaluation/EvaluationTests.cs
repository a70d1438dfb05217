using DrWeb.Ml.Manifest;

namespace DrWeb.Tests.Ml.Evaluation;

/// <summary>Metrics against small cases worked out by hand.</summary>
public class EvaluationTests
{
    [Fact]
    public void Confusion_matrix_accuracy_recall_precision()
    {
        // truth -> predicted: 0->0 x3, 0->1, 1->1, 2->0, 2->2 x2, 4->2
        var m = ConfusionMatrix.From([(0, 0), (0, 0), (0, 0), (0, 1), (1, 1), (2, 0), (2, 2), (2, 2), (4, 2)]);
        Assert.Equal(new Ratio(6, 9), m.Accuracy);
        Assert.Equal(new Ratio(3, 4), m.Recall(0));
        Assert.Equal(new Ratio(3, 4), m.Precision(0)); // predicted 0: three 0s and one 2
        Assert.Equal(new Ratio(2, 3), m.Precision(2));
        Assert.Equal(new Ratio(0, 1), m.Recall(4));
        // A grade never predicted has no precision, and a grade with no cases no recall: NaN, never 0 or a crash.
        Assert.True(double.IsNaN(m.Precision(4).Value));
        Assert.True(double.IsNaN(m.Recall(3).Value));
        Assert.Equal("n/a (0/0)", m.Recall(3).ToString());
    }

    [Fact]
    public void Quadratic_weighted_kappa_matches_a_hand_computation()
    {
        // truth: 0,0,0,1 ; pred: 0,0,1,1. Weights (i-j)^2/4.
        var m = ConfusionMatrix.From([(0, 0), (0, 0), (0, 1), (1, 1)], classes: 3);
        // observed = w01 * 1 = 0.25
        // rows: [3,1,0], cols: [2,2,0], N=4 -> E[i,j] = row_i*col_j/4
        // expected = w01*E01 + w10*E10 = 0.25*(3*2/4) + 0.25*(1*2/4) = 0.375 + 0.125 = 0.5
        Assert.Equal(1 - 0.25 / 0.5, m.QuadraticWeightedKappa, 10);

        Assert.Equal(1.0, ConfusionMatrix.From([(0, 0), (2, 2), (4, 4)]).QuadraticWeightedKappa, 10);
        // A single grade everywhere: no expected disagreement, kappa is undefined.
        Assert.True(double.IsNaN(ConfusionMatrix.From([(1, 1), (1, 1)]).QuadraticWeightedKappa));
    }

    [Fact]
    public void Referable_sensitivity_specificity_and_auc()
    {
        ReferableCase[] cases =
        [
            new(true, 0.9, true), new(true, 0.8, true), new(true, 0.4, false),  // TP, TP, FN
            new(false, 0.7, true), new(false, 0.3, false), new(false, 0.2, false), new(false, 0.1, false), // FP, TN x3
        ];
        var r = ReferableMetrics.Compute(cases);
        Assert.Equal(new Ratio(2, 3), r.Sensitivity);
        Assert.Equal(new Ratio(3, 4), r.Specificity);
        Assert.Equal(new Ratio(5, 7), r.Accuracy);
        // Pairs (pos > neg): 0.9 beats 4, 0.8 beats 4, 0.4 beats 3 of 4 -> 11 / 12.
        Assert.Equal(11.0 / 12, r.RocAuc, 10);
    }

    [Fact]
    public void Ties_count_half_in_the_auc()
    {
        ReferableCase[] cases = [new(true, 0.5, true), new(false, 0.5, true)];
        Assert.Equal(0.5, ReferableMetrics.AreaUnderRoc(cases), 10);
    }

    [Fact]
    public void Sensitivity_at_a_chosen_specificity()
    {
        ReferableCase[] cases =
        [
            new(true, 0.9, true), new(true, 0.6, true), new(true, 0.35, false),
            new(false, 0.7, true), new(false, 0.3, false), new(false, 0.2, false), new(false, 0.1, false),
        ];
        // Specificity >= 0.75 allows threshold 0.35 (negatives below: 0.3, 0.2, 0.1 -> 3/4): sensitivity 3/3.
        var at75 = ReferableMetrics.Compute(cases, targetSpecificity: 0.75);
        Assert.Equal(new Ratio(3, 3), at75.SensitivityAtTarget);
        Assert.Equal(new Ratio(3, 4), at75.SpecificityAtTarget);
        Assert.Equal(0.35, at75.ThresholdAtTarget);
        // Specificity 1.0 needs threshold above 0.7: only 0.9 -> 1/3.
        var at100 = ReferableMetrics.Compute(cases, targetSpecificity: 1.0);
        Assert.Equal(new Ratio(1, 3), at100.SensitivityAtTarget);
        Assert.Equal(new Ratio(4, 4), at100.SpecificityAtTarget);
    }

    [Fact]
    public void Single_class_sets_give_undefined_figures_not_crashes()
    {
        ReferableCase[] healthy = [new(false, 0.1, false), new(false, 0.6, true)];
        var r = ReferableMetrics.Compute(healthy);
        Assert.True(double.IsNaN(r.Sensitivity.Value));
        Assert.Equal(new Ratio(1, 2), r.Specificity);
        Assert.True(double.IsNaN(r.RocAuc));
    }

    [Fact]
    public void Report_sums_grades_two_to_four_for_the_referable_probability()
    {
        var report = EvaluationReport.From([
            new EvaluatedImage("a", 3, 1, [0.1f, 0.5f, 0.1f, 0.2f, 0.1f]), // P(ref) = 0.4, predicted 1: a missed referable eye
            new EvaluatedImage("b", 0, 0, [0.9f, 0.05f, 0.05f, 0f, 0f]),
        ]);
        Assert.Equal(1, report.Referable.FalseNegatives);
        Assert.Equal(1, report.Referable.TrueNegatives);
        Assert.Equal(1.0, report.Referable.RocAuc, 10); // 0.4 > 0.05
        Assert.Equal(new Ratio(0, 1), report.Grades[3].Recall);
    }
}
