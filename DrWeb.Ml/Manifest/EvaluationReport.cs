using DrWeb.Ml.Data;

namespace DrWeb.Ml.Manifest;

/// <summary>One evaluated image.</summary>
public sealed record EvaluatedImage(string Image, int TrueGrade, int PredictedGrade, float[] Probabilities);

/// <summary>Every figure DrWeb reports for a model on a labelled set, each with its counts.</summary>
public sealed record EvaluationReport(
    int Images,
    int[][] ConfusionMatrix,
    Ratio Accuracy,
    IReadOnlyList<GradeReport> Grades,
    double QuadraticWeightedKappa,
    ReferableMetrics Referable)
{
    /// <param name="threshold">Refer at P(referable) >= threshold (the model's operating point); null refers by the most likely grade.</param>
    public static EvaluationReport From(IReadOnlyList<EvaluatedImage> images, double targetSpecificity = 0.913, double? threshold = null)
    {
        var matrix = Manifest.ConfusionMatrix.From(images.Select(i => (i.TrueGrade, i.PredictedGrade)));
        var grades = Enumerable.Range(0, DrGrade.Count)
            .Select(g => new GradeReport(g, DrGrade.Name(g), matrix.Recall(g), matrix.Precision(g), matrix.Support(g)))
            .ToList();
        var referable = ReferableMetrics.Compute(images.Select(i => new ReferableCase(
            i.TrueGrade >= DrGrade.ReferableFrom,
            i.Probabilities.Skip(DrGrade.ReferableFrom).Sum(),
            threshold is { } t ? i.Probabilities.Skip(DrGrade.ReferableFrom).Sum() >= t : i.PredictedGrade >= DrGrade.ReferableFrom)).ToList(),
            targetSpecificity);
        return new EvaluationReport(images.Count, matrix.ToArray(), matrix.Accuracy, grades, matrix.QuadraticWeightedKappa, referable);
    }
}

public sealed record GradeReport(int Grade, string Name, Ratio Recall, Ratio Precision, int Support);
