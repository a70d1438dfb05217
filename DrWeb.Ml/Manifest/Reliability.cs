namespace DrWeb.Ml.Manifest;

/// <summary>One bin of a reliability diagram: predictions whose confidence fell in [Lower, Upper).</summary>
public sealed record ReliabilityBin(double Lower, double Upper, int Count, double MeanConfidence, double Accuracy);

/// <summary>
/// A reliability diagram with equal-width bins and its expected calibration error: the count-weighted mean gap between
/// how confident the model was and how often it was right.
/// </summary>
public sealed record Reliability(IReadOnlyList<ReliabilityBin> Bins, double ExpectedCalibrationError)
{
    public static Reliability Of(IEnumerable<(double Confidence, bool Correct)> predictions, int bins = 10)
    {
        var counts = new int[bins];
        var confidence = new double[bins];
        var correct = new double[bins];
        int total = 0;
        foreach (var (c, ok) in predictions)
        {
            int b = Math.Clamp((int)(c * bins), 0, bins - 1);
            counts[b]++;
            confidence[b] += c;
            correct[b] += ok ? 1 : 0;
            total++;
        }
        var result = new List<ReliabilityBin>(bins);
        double ece = 0;
        for (int b = 0; b < bins; b++)
        {
            double meanConfidence = counts[b] == 0 ? double.NaN : confidence[b] / counts[b];
            double accuracy = counts[b] == 0 ? double.NaN : correct[b] / counts[b];
            if (counts[b] > 0) ece += (double)counts[b] / total * Math.Abs(accuracy - meanConfidence);
            result.Add(new ReliabilityBin((double)b / bins, (double)(b + 1) / bins, counts[b], meanConfidence, accuracy));
        }
        return new Reliability(result, total == 0 ? double.NaN : ece);
    }
}
