using DrWeb.Ml.Data;

namespace DrWeb.Ml.Manifest;

/// <summary>What temperature scaling did on the validation images: the temperature, NLL and reliability before and after.</summary>
/// <param name="Reliability">Top-grade confidence against 5-grade accuracy, 10 bins.</param>
/// <param name="ReferableReliability">P(referable) against the share of referable eyes, 10 bins.</param>
public sealed record CalibrationReport(
    double Temperature, int Images,
    double NllBefore, double NllAfter,
    Reliability ReliabilityBefore, Reliability ReliabilityAfter,
    Reliability ReferableReliabilityBefore, Reliability ReferableReliabilityAfter)
{
    public static Reliability TopGrade(IEnumerable<EvaluatedImage> images) =>
        Reliability.Of(images.Select(i => ((double)i.Probabilities.Max(), i.PredictedGrade == i.TrueGrade)));

    public static Reliability Referable(IEnumerable<EvaluatedImage> images) =>
        Reliability.Of(images.Select(i => ((double)i.Probabilities.Skip(DrGrade.ReferableFrom).Sum(), i.TrueGrade >= DrGrade.ReferableFrom)));
}
