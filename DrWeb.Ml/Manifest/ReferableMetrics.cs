namespace DrWeb.Ml.Manifest;

/// <summary>One image's referable-DR outcome: truth, the model's P(grade >= 2) and its decision.</summary>
public readonly record struct ReferableCase(bool Referable, double Probability, bool Predicted);

/// <summary>Referable DR (grade >= 2) as a binary screening test.</summary>
public sealed record ReferableMetrics(
    int TruePositives, int FalseNegatives, int TrueNegatives, int FalsePositives,
    double RocAuc,
    double TargetSpecificity, double ThresholdAtTarget, Ratio SensitivityAtTarget, Ratio SpecificityAtTarget)
{
    /// <summary>TP / (TP + FN). (The paper's printed formula is a misprint; this is the standard definition.)</summary>
    public Ratio Sensitivity => new(TruePositives, TruePositives + FalseNegatives);

    /// <summary>TN / (TN + FP).</summary>
    public Ratio Specificity => new(TrueNegatives, TrueNegatives + FalsePositives);

    public Ratio Accuracy => new(TruePositives + TrueNegatives, TruePositives + FalseNegatives + TrueNegatives + FalsePositives);

    /// <param name="targetSpecificity">Report the sensitivity at the lowest threshold that keeps at least this
    /// specificity (default 0.913, the paper's).</param>
    public static ReferableMetrics Compute(IReadOnlyList<ReferableCase> cases, double targetSpecificity = 0.913)
    {
        int tp = cases.Count(c => c.Referable && c.Predicted), fn = cases.Count(c => c.Referable && !c.Predicted);
        int tn = cases.Count(c => !c.Referable && !c.Predicted), fp = cases.Count(c => !c.Referable && c.Predicted);
        var (threshold, sens, spec) = SensitivityAtSpecificity(cases, targetSpecificity);
        return new ReferableMetrics(tp, fn, tn, fp, AreaUnderRoc(cases), targetSpecificity, threshold, sens, spec);
    }

    /// <summary>
    /// Area under the ROC curve as the Mann-Whitney statistic: the probability that a random referable case scores
    /// above a random non-referable one, ties counting half. NaN when either class is absent.
    /// </summary>
    public static double AreaUnderRoc(IReadOnlyList<ReferableCase> cases)
    {
        var positives = cases.Where(c => c.Referable).Select(c => c.Probability).ToArray();
        var negatives = cases.Where(c => !c.Referable).Select(c => c.Probability).OrderBy(p => p).ToArray();
        if (positives.Length == 0 || negatives.Length == 0) return double.NaN;
        double wins = 0;
        foreach (double p in positives)
        {
            int below = LowerBound(negatives, p);
            int tiedOrBelow = UpperBound(negatives, p);
            wins += below + 0.5 * (tiedOrBelow - below);
        }
        return wins / ((double)positives.Length * negatives.Length);
    }

    private static (double Threshold, Ratio Sensitivity, Ratio Specificity) SensitivityAtSpecificity(
        IReadOnlyList<ReferableCase> cases, double target)
    {
        int positives = cases.Count(c => c.Referable), negatives = cases.Count - positives;
        if (positives == 0 || negatives == 0) return (double.NaN, new Ratio(0, positives), new Ratio(0, negatives));
        // Candidate thresholds: every distinct score; "referable" means probability >= threshold.
        var best = (Threshold: double.PositiveInfinity, Sensitivity: new Ratio(0, positives), Specificity: new Ratio(negatives, negatives));
        foreach (double t in cases.Select(c => c.Probability).Distinct().OrderByDescending(p => p))
        {
            int tn = cases.Count(c => !c.Referable && c.Probability < t);
            if ((double)tn / negatives < target) break;
            int tp = cases.Count(c => c.Referable && c.Probability >= t);
            best = (t, new Ratio(tp, positives), new Ratio(tn, negatives));
        }
        return best;
    }

    private static int LowerBound(double[] sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi) { int mid = (lo + hi) / 2; if (sorted[mid] < value) lo = mid + 1; else hi = mid; }
        return lo;
    }

    private static int UpperBound(double[] sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi) { int mid = (lo + hi) / 2; if (sorted[mid] <= value) lo = mid + 1; else hi = mid; }
        return lo;
    }
}
