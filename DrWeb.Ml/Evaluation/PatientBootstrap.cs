using DrWeb.Ml.Data;
using DrWeb.Ml.Manifest;

namespace DrWeb.Ml.Evaluation;

/// <summary>A figure with its 95% bootstrap interval (percentile method).</summary>
public sealed record Interval(double Estimate, double Lower, double Upper);

/// <summary>Bootstrap 95% intervals, resampled by patient, for the figures a screening study reports.</summary>
public sealed record BootstrapReport(int Resamples, int Patients, double? Threshold, double TargetSpecificity,
    Interval RocAuc, Interval Sensitivity, Interval Specificity, Interval SensitivityAtTargetSpecificity, Interval QuadraticWeightedKappa);

/// <summary>
/// Resamples patients (not images) with replacement: two eyes of one person are correlated, so resampling images
/// would make the intervals too narrow.
/// </summary>
public static class PatientBootstrap
{
    /// <param name="patientOf">Image id to patient id.</param>
    /// <param name="threshold">The model's threshold on P(referable); null refers by the most likely grade.</param>
    public static BootstrapReport Compute(IReadOnlyList<EvaluatedImage> images, IReadOnlyDictionary<string, string> patientOf,
        double? threshold, double targetSpecificity = 0.913, int resamples = 1000, int seed = 20251)
    {
        var byPatient = images.GroupBy(i => patientOf.TryGetValue(i.Image, out var p) ? p : i.Image, StringComparer.Ordinal)
            .Select(g => g.ToArray()).ToArray();
        var point = Figures(images, threshold, targetSpecificity);
        var samples = new double[5][];
        for (int f = 0; f < 5; f++) samples[f] = new double[resamples];
        var rng = new Random(seed);
        var drawn = new List<EvaluatedImage>(images.Count);
        for (int r = 0; r < resamples; r++)
        {
            drawn.Clear();
            for (int k = 0; k < byPatient.Length; k++) drawn.AddRange(byPatient[rng.Next(byPatient.Length)]);
            var figures = Figures(drawn, threshold, targetSpecificity);
            for (int f = 0; f < 5; f++) samples[f][r] = figures[f];
        }
        Interval I(int f) => new(point[f], Percentile(samples[f], 0.025), Percentile(samples[f], 0.975));
        return new BootstrapReport(resamples, byPatient.Length, threshold, targetSpecificity, I(0), I(1), I(2), I(3), I(4));
    }

    /// <summary>AUC, sensitivity, specificity, sensitivity at the target specificity, kappa; NaN where undefined.</summary>
    private static double[] Figures(IReadOnlyList<EvaluatedImage> images, double? threshold, double targetSpecificity)
    {
        int n = images.Count;
        var p = new double[n];
        var referable = new bool[n];
        int positives = 0, tp = 0, tn = 0;
        for (int i = 0; i < n; i++)
        {
            var image = images[i];
            p[i] = image.Probabilities.Skip(DrGrade.ReferableFrom).Sum();
            referable[i] = image.TrueGrade >= DrGrade.ReferableFrom;
            bool refer = threshold is { } t ? p[i] >= t : image.PredictedGrade >= DrGrade.ReferableFrom;
            if (referable[i]) { positives++; if (refer) tp++; }
            else if (!refer) tn++;
        }
        int negatives = n - positives;
        double sens = positives == 0 ? double.NaN : (double)tp / positives;
        double spec = negatives == 0 ? double.NaN : (double)tn / negatives;
        return [Auc(p, referable, positives, negatives), sens, spec, SensitivityAtSpecificity(p, referable, positives, negatives, targetSpecificity),
            Manifest.ConfusionMatrix.From(images.Select(i => (i.TrueGrade, i.PredictedGrade))).QuadraticWeightedKappa];
    }

    private static double Auc(double[] p, bool[] referable, int positives, int negatives)
    {
        if (positives == 0 || negatives == 0) return double.NaN;
        var order = Enumerable.Range(0, p.Length).OrderBy(i => p[i]).ToArray();
        // Mann-Whitney with mid-ranks for ties.
        double rankSum = 0;
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j < order.Length && p[order[j]] == p[order[i]]) j++;
            double midRank = (i + j + 1) / 2.0;
            for (int k = i; k < j; k++) if (referable[order[k]]) rankSum += midRank;
            i = j;
        }
        return (rankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>Sensitivity at the lowest score threshold whose specificity reaches the target (as <see cref="ReferableMetrics"/>).</summary>
    private static double SensitivityAtSpecificity(double[] p, bool[] referable, int positives, int negatives, double target)
    {
        if (positives == 0 || negatives == 0) return double.NaN;
        var negativeScores = p.Where((_, i) => !referable[i]).Order().ToArray();
        int needed = (int)Math.Ceiling(target * negatives - 1e-9);
        if (needed <= 0) return 1.0;
        double below = negativeScores[needed - 1];
        // The threshold is the smallest score above every negative that must be called negative.
        double threshold = p.Where(v => v > below).DefaultIfEmpty(double.PositiveInfinity).Min();
        return (double)Enumerable.Range(0, p.Length).Count(i => referable[i] && p[i] >= threshold) / positives;
    }

    private static double Percentile(double[] values, double q)
    {
        var finite = values.Where(double.IsFinite).Order().ToArray();
        if (finite.Length == 0) return double.NaN;
        double pos = q * (finite.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        return finite[lo] + (finite[hi] - finite[lo]) * (pos - lo);
    }
}
