using DrWeb.Ml.Data;
using static TorchSharp.torch;

namespace DrWeb.Ml.Explain;

/// <summary>
/// What a class activation map explains: the predicted grade, a chosen grade, or the referral decision (the score
/// is P(referable) = P(grade 2) + P(grade 3) + P(grade 4), the number a doctor acts on).
/// </summary>
public sealed record CamTarget
{
    private CamTarget(string name, int? grade) => (Name, Grade) = (name, grade);

    /// <summary><c>predicted</c>, <c>referable</c> or the grade's digit.</summary>
    public string Name { get; }

    /// <summary>The grade explained; null for the predicted grade and for referable.</summary>
    public int? Grade { get; }

    public static readonly CamTarget Predicted = new("predicted", null);
    public static readonly CamTarget Referable = new("referable", null);

    public static CamTarget ForGrade(int grade) => grade is >= 0 and < DrGrade.Count
        ? new(grade.ToString(System.Globalization.CultureInfo.InvariantCulture), grade)
        : throw new ArgumentOutOfRangeException(nameof(grade), grade, "DR grades run from 0 to 4.");

    /// <summary>Reads <c>predicted</c>, <c>referable</c> or a grade 0-4, as the command line and the API take them.</summary>
    public static CamTarget Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "predicted" or "" => Predicted,
        "referable" => Referable,
        var g when int.TryParse(g, out int grade) && grade is >= 0 and < DrGrade.Count => ForGrade(grade),
        _ => throw new ArgumentException($"Unknown CAM target '{text}'. Use predicted, referable or a grade 0-4."),
    };

    public bool IsReferable => ReferenceEquals(this, Referable) || Name == "referable";

    /// <summary>
    /// The differentiated score of each row of <paramref name="logits"/> ([N, classes]): the logit of the class in
    /// <paramref name="classes"/> (pytorch-grad-cam's ClassifierOutputTarget), or P(referable) for <see cref="Referable"/>.
    /// </summary>
    public Tensor Score(Tensor logits, Tensor classes) => IsReferable
        ? nn.functional.softmax(logits, 1).narrow(1, DrGrade.ReferableFrom, logits.shape[1] - DrGrade.ReferableFrom).sum(1)
        : logits.gather(1, classes.unsqueeze(1)).squeeze(1);

    /// <summary>
    /// The target's probability for each row of <paramref name="logits"/>: softmax of the class in <paramref name="classes"/>,
    /// or P(referable). Deletion and insertion curves follow it.
    /// </summary>
    public Tensor Probability(Tensor logits, Tensor classes)
    {
        Tensor p = nn.functional.softmax(logits, 1);
        return IsReferable
            ? p.narrow(1, DrGrade.ReferableFrom, logits.shape[1] - DrGrade.ReferableFrom).sum(1)
            : p.gather(1, classes.unsqueeze(1)).squeeze(1);
    }

    public override string ToString() => Name;
}
