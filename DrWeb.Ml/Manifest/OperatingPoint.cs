using System.Globalization;

namespace DrWeb.Ml.Manifest;

/// <summary>What an operating point was chosen for.</summary>
public enum OperatingTarget
{
    /// <summary>The highest threshold that keeps validation sensitivity at or above the target (IDx-DR's 0.87 by default).</summary>
    Sensitivity,

    /// <summary>The lowest threshold that keeps validation specificity at or above the target (the study's 0.913).</summary>
    Specificity,

    /// <summary>A threshold typed in by an admin.</summary>
    Threshold,
}

/// <summary>One point of a validation ROC curve: "referable" means P(referable) >= Threshold.</summary>
public sealed record RocPoint(double Threshold, Ratio Sensitivity, Ratio Specificity);

/// <summary>
/// The referral rule of a model version: an eye is referred when P(referable), after temperature scaling, is at least
/// <see cref="Threshold"/>. Recorded with what it was chosen for and the validation sensitivity and specificity it gives.
/// </summary>
public sealed record OperatingPoint(double Threshold, OperatingTarget Target, double TargetValue, Ratio Sensitivity, Ratio Specificity,
    int ValidationImages)
{
    public const double DefaultSensitivity = 0.87;
    public const double PaperSpecificity = 0.913;

    public bool Refers(double probability) => probability >= Threshold;

    /// <summary>What the threshold was set for, e.g. "set for sensitivity 0.87 on 1,873 validation images".</summary>
    public string Basis => Target switch
    {
        OperatingTarget.Sensitivity => string.Create(CultureInfo.InvariantCulture, $"set for sensitivity {TargetValue:0.00#} on {ValidationImages:N0} validation images"),
        OperatingTarget.Specificity => string.Create(CultureInfo.InvariantCulture, $"set for specificity {TargetValue:0.00#} on {ValidationImages:N0} validation images"),
        _ => string.Create(CultureInfo.InvariantCulture, $"set by hand (validation sensitivity {Sensitivity.Value:0.00}, specificity {Specificity.Value:0.00} on {ValidationImages:N0} images)"),
    };

    /// <summary>The stated rule for one image, e.g. "P(referable) 0.41 >= 0.31, set for sensitivity 0.87 on 1,873 validation images".</summary>
    public string Rule(double probability) => string.Create(CultureInfo.InvariantCulture,
        $"P(referable) {probability:0.00} {(Refers(probability) ? ">=" : "<")} {Threshold:0.00}, {Basis}");

    public static OperatingPoint For(IReadOnlyList<ReferableCase> validation, OperatingTarget target, double value) => target switch
    {
        OperatingTarget.Sensitivity => ForSensitivity(validation, value),
        OperatingTarget.Specificity => ForSpecificity(validation, value),
        _ => AtThreshold(validation, value),
    };

    public static OperatingPoint ForSensitivity(IReadOnlyList<ReferableCase> validation, double target)
    {
        Require(validation);
        if (target is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(target), "A target sensitivity lies in (0, 1].");
        var point = Roc(validation).Where(p => p.Sensitivity.Value >= target).MaxBy(p => p.Threshold)!;
        return new OperatingPoint(point.Threshold, OperatingTarget.Sensitivity, target, point.Sensitivity, point.Specificity, validation.Count);
    }

    public static OperatingPoint ForSpecificity(IReadOnlyList<ReferableCase> validation, double target)
    {
        Require(validation);
        if (target is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(target), "A target specificity lies in (0, 1].");
        var point = Roc(validation).Where(p => p.Specificity.Value >= target).MinBy(p => p.Threshold)!;
        return new OperatingPoint(point.Threshold, OperatingTarget.Specificity, target, point.Sensitivity, point.Specificity, validation.Count);
    }

    public static OperatingPoint AtThreshold(IReadOnlyList<ReferableCase> validation, double threshold)
    {
        Require(validation);
        if (threshold is < 0 or > 1 || double.IsNaN(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), "A threshold on P(referable) lies in [0, 1].");
        var (sens, spec) = At(validation, threshold);
        return new OperatingPoint(threshold, OperatingTarget.Threshold, threshold, sens, spec, validation.Count);
    }

    /// <summary>
    /// Every distinct operating point, from the strictest (nothing referred) to the most lenient (everything referred):
    /// one per distinct score, plus a threshold above every score.
    /// </summary>
    public static IReadOnlyList<RocPoint> Roc(IReadOnlyList<ReferableCase> cases)
    {
        int positives = cases.Count(c => c.Referable), negatives = cases.Count - positives;
        var sorted = cases.OrderByDescending(c => c.Probability).ToArray();
        double above = Math.Max(1.0, sorted.Length == 0 ? 0 : sorted[0].Probability) + 1e-6;
        var points = new List<RocPoint> { new(above, new Ratio(0, positives), new Ratio(negatives, negatives)) };
        int tp = 0, fp = 0;
        for (int i = 0; i < sorted.Length;)
        {
            double t = sorted[i].Probability;
            for (; i < sorted.Length && sorted[i].Probability == t; i++)
                if (sorted[i].Referable) tp++; else fp++;
            points.Add(new RocPoint(t, new Ratio(tp, positives), new Ratio(negatives - fp, negatives)));
        }
        return points;
    }

    public static (Ratio Sensitivity, Ratio Specificity) At(IReadOnlyList<ReferableCase> cases, double threshold)
    {
        int positives = cases.Count(c => c.Referable), negatives = cases.Count - positives;
        return (new Ratio(cases.Count(c => c.Referable && c.Probability >= threshold), positives),
            new Ratio(cases.Count(c => !c.Referable && c.Probability < threshold), negatives));
    }

    private static void Require(IReadOnlyList<ReferableCase> validation)
    {
        if (!validation.Any(c => c.Referable) || validation.All(c => c.Referable))
            throw new ArgumentException("An operating point needs validation images with and without referable DR.");
    }
}

/// <summary>A recorded change of a model's operating point.</summary>
public sealed record OperatingPointChange(OperatingPoint OperatingPoint, string ChangedBy, DateTimeOffset ChangedUtc);
