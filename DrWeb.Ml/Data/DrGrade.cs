namespace DrWeb.Ml.Data;

/// <summary>The international clinical DR severity scale, as used by EyePACS and APTOS.</summary>
public static class DrGrade
{
    public const int Count = 5;

    /// <summary>Grades at or above this are referable to an ophthalmologist.</summary>
    public const int ReferableFrom = 2;

    public static readonly IReadOnlyList<string> Names =
    [
        "No DR",
        "Mild NPDR",
        "Moderate NPDR",
        "Severe NPDR",
        "Proliferative DR",
    ];

    public static string Name(int grade) => grade is >= 0 and < Count
        ? Names[grade]
        : throw new ArgumentOutOfRangeException(nameof(grade), grade, "DR grades run from 0 to 4.");
}

/// <summary>The model's five grade probabilities for one image.</summary>
public sealed record GradeProbabilities(IReadOnlyList<float> Values)
{
    /// <summary>Softmax(log p / T): what logits divided by T would give (log p differs from the logits by a constant).</summary>
    public static GradeProbabilities Tempered(IReadOnlyList<float> probabilities, double temperature) =>
        FromLogits(probabilities.Select(p => (float)(Math.Log(Math.Max(p, 1e-12)) / temperature)).ToArray());

    public float this[int grade] => Values[grade];

    public int MostLikely => Values.Select((p, i) => (p, i)).MaxBy(t => t.p).i;

    /// <summary>P(referable): the sum of the probabilities of grades 2 to 4.</summary>
    public float Referable => Values.Skip(DrGrade.ReferableFrom).Sum();

    public static GradeProbabilities FromLogits(IReadOnlyList<float> logits)
    {
        float max = logits.Max();
        var exp = logits.Select(l => MathF.Exp(l - max)).ToArray();
        float sum = exp.Sum();
        return new GradeProbabilities(exp.Select(e => e / sum).ToArray());
    }
}

/// <summary>Whether to refer, and on what basis.</summary>
/// <param name="IsReferable">The decision: P(referable) at or above the model's threshold, or, for a model without one, the most likely grade referable.</param>
/// <param name="Probability">P(grade >= 2).</param>
/// <param name="Rule">How the decision was made, for display, e.g. "P(referable) 0.41 >= 0.31, set for sensitivity 0.87 on 1,873 validation images".</param>
/// <param name="Threshold">The threshold on P(referable) used, or null for the argmax-grade rule.</param>
public sealed record ReferableDecision(bool IsReferable, float Probability, string Rule, double? Threshold = null)
{
    public static ReferableDecision FromGrade(int grade, GradeProbabilities p) =>
        new(grade >= DrGrade.ReferableFrom, p.Referable, $"predicted grade >= {DrGrade.ReferableFrom}");
}
