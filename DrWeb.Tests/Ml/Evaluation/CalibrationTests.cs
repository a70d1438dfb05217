using DrWeb.Ml.Data;
using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Inference;
using DrWeb.Ml.Manifest;

namespace DrWeb.Tests.Ml.Evaluation;

public class CalibrationTests
{
    /// <summary>An overconfident model: right 70% of the time with confidence 0.99.</summary>
    private static List<EvaluatedImage> Overconfident()
    {
        var images = new List<EvaluatedImage>();
        for (int i = 0; i < 200; i++)
        {
            int truth = i % 5;
            int predicted = i % 10 < 7 ? truth : (truth + 1) % 5;
            var p = Enumerable.Repeat(0.0025f, 5).ToArray();
            p[predicted] = 0.99f;
            images.Add(new EvaluatedImage($"img{i}", truth, predicted, p));
        }
        return images;
    }

    [Fact]
    public void Temperature_scaling_lowers_the_NLL_and_the_ECE_of_an_overconfident_model_and_keeps_its_grades()
    {
        var images = Overconfident();
        var report = TemperatureScaling.Calibrate(images);
        Assert.True(report.Temperature > 1.5, $"an overconfident model needs T > 1, got {report.Temperature}");
        Assert.True(report.NllAfter < report.NllBefore - 0.5, $"NLL {report.NllBefore} -> {report.NllAfter}");
        Assert.True(report.ReliabilityAfter.ExpectedCalibrationError < report.ReliabilityBefore.ExpectedCalibrationError / 2);
        Assert.Equal(10, report.ReliabilityBefore.Bins.Count);
        Assert.Equal(images.Count, report.ReliabilityBefore.Bins.Sum(b => b.Count));
        // The fitted temperature is the minimum: a little either side is worse.
        double at = TemperatureScaling.NegativeLogLikelihood(images, report.Temperature);
        Assert.True(at <= TemperatureScaling.NegativeLogLikelihood(images, report.Temperature * 1.1));
        Assert.True(at <= TemperatureScaling.NegativeLogLikelihood(images, report.Temperature / 1.1));
        Assert.All(images, i => Assert.Equal(i.PredictedGrade, TemperatureScaling.Apply(i, report.Temperature).PredictedGrade));
    }

    [Fact]
    public void Temperature_applied_to_probabilities_equals_dividing_the_logits()
    {
        float[] logits = [2.0f, -1.0f, 0.5f, 0.0f, 3.0f];
        var p = GradeProbabilities.FromLogits(logits).Values.ToArray();
        var expected = GradeProbabilities.FromLogits(logits.Select(l => l / 2.5f).ToArray()).Values;
        var scaled = TemperatureScaling.Apply(p, 2.5);
        for (int i = 0; i < 5; i++) Assert.Equal(expected[i], scaled[i], 5);
        var policy = new ReferralPolicy(2.5, null);
        Assert.Equal(expected[4], policy.Probabilities(logits)[4], 5);
    }

    /// <summary>Ten images: scores 0.9..0.0, referable at 0.9, 0.8, 0.6, 0.5, 0.2 (five positives, five negatives).</summary>
    private static List<ReferableCase> HandMadeRoc() =>
        new (double P, bool R)[] { (0.9, true), (0.8, true), (0.7, false), (0.6, true), (0.5, true), (0.4, false), (0.3, false), (0.2, true), (0.1, false), (0.0, false) }
            .Select(c => new ReferableCase(c.R, c.P, false)).ToList();

    [Fact]
    public void The_threshold_picker_returns_the_documented_points_on_a_hand_made_ROC()
    {
        var cases = HandMadeRoc();
        // Sensitivity >= 0.8 needs 4 of 5 positives: the highest such threshold is 0.5 (spec 4/5: only 0.7 is a false alarm).
        var sens = OperatingPoint.ForSensitivity(cases, 0.8);
        Assert.Equal(0.5, sens.Threshold);
        Assert.Equal(new Ratio(4, 5), sens.Sensitivity);
        Assert.Equal(new Ratio(4, 5), sens.Specificity);
        // Sensitivity 1.0 needs the 0.2 positive.
        Assert.Equal(0.2, OperatingPoint.ForSensitivity(cases, 1.0).Threshold);
        // Specificity >= 0.8 (4 of 5 negatives below): the lowest such threshold is 0.5, sensitivity 4/5.
        var spec = OperatingPoint.ForSpecificity(cases, 0.8);
        Assert.Equal(0.5, spec.Threshold);
        // Specificity 1.0: above 0.7, so 0.8 (sensitivity 2/5).
        var strict = OperatingPoint.ForSpecificity(cases, 1.0);
        Assert.Equal(0.8, strict.Threshold);
        Assert.Equal(new Ratio(2, 5), strict.Sensitivity);
        var typed = OperatingPoint.AtThreshold(cases, 0.65);
        Assert.Equal(new Ratio(2, 5), typed.Sensitivity);
        Assert.Equal(new Ratio(4, 5), typed.Specificity);
        Assert.Equal(11, OperatingPoint.Roc(cases).Count);
        Assert.Equal("P(referable) 0.41 < 0.50, set for sensitivity 0.80 on 10 validation images", sens.Rule(0.41));
        Assert.Equal("P(referable) 0.62 >= 0.50, set for sensitivity 0.80 on 10 validation images", sens.Rule(0.62));
    }

    [Fact]
    public void An_operating_point_needs_both_classes_and_a_target_in_range()
    {
        var positives = HandMadeRoc().Where(c => c.Referable).ToList();
        Assert.Throws<ArgumentException>(() => OperatingPoint.ForSensitivity(positives, 0.87));
        Assert.Throws<ArgumentOutOfRangeException>(() => OperatingPoint.ForSensitivity(HandMadeRoc(), 1.5));
        Assert.Throws<ArgumentException>(() => ModelCalibrator.ParseTarget("sensitivity:2"));
        Assert.Throws<ArgumentException>(() => ModelCalibrator.ParseTarget("recall:0.9"));
        Assert.Equal((OperatingTarget.Specificity, 0.913), ModelCalibrator.ParseTarget("specificity:0.913"));
    }

    [Fact]
    public void The_policy_refers_by_threshold_and_a_model_without_one_by_its_most_likely_grade()
    {
        var op = OperatingPoint.ForSensitivity(HandMadeRoc(), 0.8);
        var p = new GradeProbabilities([0.5f, 0.1f, 0.3f, 0.05f, 0.05f]);   // grade 0 most likely, P(referable) 0.4
        Assert.False(new ReferralPolicy(1, op).Decide(p).IsReferable);
        var lower = OperatingPoint.AtThreshold(HandMadeRoc(), 0.35);
        var decision = new ReferralPolicy(1, lower).Decide(p);
        Assert.True(decision.IsReferable);
        Assert.Equal(0.35, decision.Threshold);
        Assert.StartsWith("P(referable) 0.40 >= 0.35", decision.Rule);
        var argmax = ReferralPolicy.ArgmaxGrade.Decide(p);
        Assert.False(argmax.IsReferable);
        Assert.Null(argmax.Threshold);
    }

    [Fact]
    public void Wilson_interval_brackets_the_proportion()
    {
        var (lo, hi) = new Ratio(87, 100).Wilson95();
        Assert.InRange(lo, 0.79, 0.80);
        Assert.InRange(hi, 0.92, 0.93);
        Assert.True(double.IsNaN(new Ratio(0, 0).Wilson95().Lower));
    }

    [Fact]
    public void Patient_bootstrap_intervals_contain_the_estimate_and_narrow_with_more_patients()
    {
        List<EvaluatedImage> Make(int patients)
        {
            var rng = new Random(3);
            var list = new List<EvaluatedImage>();
            for (int i = 0; i < patients * 2; i++)
            {
                int truth = rng.Next(5);
                float pRef = (float)Math.Clamp((truth >= 2 ? 0.65 : 0.35) + rng.NextDouble() * 0.5 - 0.25, 0, 1);
                list.Add(new EvaluatedImage($"{i / 2}_{(i % 2 == 0 ? "left" : "right")}", truth, pRef >= 0.5 ? 2 : 0, [1 - pRef, 0, pRef, 0, 0]));
            }
            return list;
        }
        Dictionary<string, string> PatientOf(IEnumerable<EvaluatedImage> images) => images.ToDictionary(i => i.Image, i => i.Image.Split('_')[0]);
        var small = Make(40);
        var large = Make(400);
        var a = PatientBootstrap.Compute(small, PatientOf(small), 0.5, resamples: 300);
        var b = PatientBootstrap.Compute(large, PatientOf(large), 0.5, resamples: 300);
        Assert.Equal(40, a.Patients);
        Assert.Equal(EvaluationReport.From(small, threshold: 0.5).Referable.RocAuc, a.RocAuc.Estimate, 9);
        Assert.InRange(a.RocAuc.Estimate, a.RocAuc.Lower, a.RocAuc.Upper);
        Assert.InRange(a.Sensitivity.Estimate, a.Sensitivity.Lower, a.Sensitivity.Upper);
        Assert.True(b.RocAuc.Upper - b.RocAuc.Lower < a.RocAuc.Upper - a.RocAuc.Lower);
        Assert.Equal(EvaluationReport.From(small, threshold: 0.5).Referable.SensitivityAtTarget.Value, a.SensitivityAtTargetSpecificity.Estimate, 9);
    }
}
