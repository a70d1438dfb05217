using DrWeb.Ml.Data;
using DrWeb.Ml.Manifest;

namespace DrWeb.Ml.Inference;

/// <summary>
/// How a model's outputs become a decision: logits divided by <see cref="Temperature"/>, then "refer" when P(referable)
/// reaches the <see cref="OperatingPoint"/>'s threshold. A model without an operating point (made before DrWeb recorded
/// one) refers when its most likely grade is referable, as it always did.
/// </summary>
public sealed record ReferralPolicy(double Temperature, OperatingPoint? OperatingPoint)
{
    public static readonly ReferralPolicy ArgmaxGrade = new(1.0, null);

    public static ReferralPolicy From(ModelManifest manifest) =>
        new(manifest.Calibration?.Temperature ?? 1.0, manifest.OperatingPoint);

    public GradeProbabilities Probabilities(IReadOnlyList<float> logits) =>
        GradeProbabilities.FromLogits(Temperature == 1.0 ? logits : logits.Select(l => (float)(l / Temperature)).ToArray());

    /// <summary>
    /// Several views of one photograph (e.g. it and its mirror image): their softmax probabilities averaged, then
    /// temperature-scaled as softmax(log p / T). For one view this equals softmax(logits / T).
    /// </summary>
    public GradeProbabilities Probabilities(IReadOnlyList<float[]> viewLogits)
    {
        if (viewLogits.Count == 1) return Probabilities(viewLogits[0]);
        var mean = new float[viewLogits[0].Length];
        foreach (var logits in viewLogits)
        {
            var p = GradeProbabilities.FromLogits(logits).Values;
            for (int i = 0; i < mean.Length; i++) mean[i] += p[i] / viewLogits.Count;
        }
        return Temperature == 1.0 ? new GradeProbabilities(mean) : GradeProbabilities.Tempered(mean, Temperature);
    }

    public ReferableDecision Decide(GradeProbabilities p) => OperatingPoint is { } op
        ? new ReferableDecision(op.Refers(p.Referable), p.Referable, op.Rule(p.Referable), op.Threshold)
        : ReferableDecision.FromGrade(p.MostLikely, p);

    /// <summary>The referable outcome of an evaluated image (its probabilities already scaled) under this policy.</summary>
    public ReferableCase Case(EvaluatedImage image)
    {
        double p = image.Probabilities.Skip(DrGrade.ReferableFrom).Sum();
        return new ReferableCase(image.TrueGrade >= DrGrade.ReferableFrom, p,
            OperatingPoint is { } op ? op.Refers(p) : image.PredictedGrade >= DrGrade.ReferableFrom);
    }
}
