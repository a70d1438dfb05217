using System.Globalization;
using DrWeb.Ml.Data;
using DrWeb.Ml.Manifest;

namespace DrWeb.Ml.Evaluation;

/// <summary>How one true grade fared: its recall, its support, and where its misses went.</summary>
public sealed record GradeBias(int Grade, int Support, Ratio Recall, int PredictedCount, int? CommonestWrongGrade, Ratio CommonestWrongShare);

/// <summary>
/// The figures that show a model's bias from its confusion matrix: recall per grade with support, the predicted
/// against the true grade distribution, and one sentence per grade that an educator can say out loud.
/// </summary>
public sealed class BiasSummary
{
    public BiasSummary(ConfusionMatrix matrix)
    {
        Matrix = matrix;
        Grades = Enumerable.Range(0, matrix.Classes).Select(g =>
        {
            int support = matrix.Support(g);
            var wrong = Enumerable.Range(0, matrix.Classes).Where(p => p != g && matrix[g, p] > 0)
                .OrderByDescending(p => matrix[g, p]).ThenBy(p => p).Select(p => (int?)p).FirstOrDefault();
            return new GradeBias(g, support, new Ratio(matrix[g, g], support), matrix.PredictedCount(g), wrong,
                new Ratio(wrong is { } w ? matrix[g, w] : 0, support));
        }).ToList();
    }

    public ConfusionMatrix Matrix { get; }
    public IReadOnlyList<GradeBias> Grades { get; }

    /// <summary>Share of all cases that are truly of each grade, and share the model called each grade.</summary>
    public IReadOnlyList<(int Grade, double True, double Predicted)> Distribution =>
        Grades.Select(g => (g.Grade, Matrix.Total == 0 ? 0 : g.Support / (double)Matrix.Total,
            Matrix.Total == 0 ? 0 : g.PredictedCount / (double)Matrix.Total)).ToList();

    /// <summary>One sentence per grade that has cases, e.g. "31% of grade 3 (Severe NPDR) cases were called grade 0 (No DR)."</summary>
    public IReadOnlyList<string> Sentences => Grades.Where(g => g.Support > 0).Select(Sentence).ToList();

    public static string Sentence(GradeBias g)
    {
        string grade = $"grade {g.Grade} ({DrGrade.Name(g.Grade)})";
        if (g.CommonestWrongGrade is not { } wrong)
            return g.Support == 1 ? $"The one {grade} case was graded correctly." : $"All {g.Support} {grade} cases were graded correctly.";
        string share = Percent(g.CommonestWrongShare);
        string recall = Percent(g.Recall);
        return $"{share} of {grade} cases were called grade {wrong} ({DrGrade.Name(wrong)}); {recall} were graded correctly ({g.Recall.Numerator} of {g.Support}).";
    }

    public static string Percent(Ratio r) => r.Denominator == 0 ? "n/a" : (100.0 * r.Numerator / r.Denominator).ToString("0", CultureInfo.InvariantCulture) + "%";
}
