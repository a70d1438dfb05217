using DrWeb.Ml.Architectures;
using static TorchSharp.torch;

namespace DrWeb.Ml.Explain;

/// <summary>
/// The model-randomisation test of Adebayo et al. (2018), "Sanity checks for saliency maps": a map that explains the
/// model must change when the model's learned weights are replaced by random ones. The check compares a method's map
/// on the trained model with its map on a copy whose trained layers were randomised, by Spearman's rank correlation:
/// near 1 means the map did not depend on what the model learned.
/// </summary>
public static class SanityCheck
{
    /// <summary>
    /// Replaces, in place, every parameter that <paramref name="model"/>'s trainable policy trains (the layers its
    /// training changed) with Gaussian noise of the same mean and standard deviation as the tensor, so activations keep
    /// their scale. BatchNorm running statistics are left alone. Returns the number of tensors randomised.
    /// </summary>
    public static int RandomiseTrainedLayers(FundusClassifier model, int seed)
    {
        var generator = new Generator((ulong)seed);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        int count = 0;
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (!model.TrainablePolicy.Trains(name)) continue;
            Tensor values = parameter.detach();
            double mean = values.numel() > 0 ? values.mean().item<float>() : 0;
            double std = values.numel() > 1 ? values.std().item<float>() : 0;
            if (std == 0) std = Math.Max(Math.Abs(mean), 1e-2);
            var noise = randn(values.shape, dtype: values.dtype, generator: generator).to(values.device);
            values.copy_(noise.mul(std).add(mean));
            count++;
        }
        return count;
    }

    /// <summary>
    /// Spearman's rank correlation of two maps of the same size (average ranks for ties). NaN when either map is
    /// constant, e.g. a map that ReLU turned to all zeros: there is no order to compare.
    /// </summary>
    public static double RankCorrelation(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException("Compare maps of the same size.");
        double[] ra = Ranks(a), rb = Ranks(b);
        double meanA = ra.Average(), meanB = rb.Average(), cov = 0, va = 0, vb = 0;
        for (int i = 0; i < ra.Length; i++)
        {
            double da = ra[i] - meanA, db = rb[i] - meanB;
            cov += da * db; va += da * da; vb += db * db;
        }
        return va == 0 || vb == 0 ? double.NaN : cov / Math.Sqrt(va * vb);
    }

    /// <summary>1-based ranks, ties sharing their average rank.</summary>
    public static double[] Ranks(ReadOnlySpan<float> values)
    {
        var keys = values.ToArray();
        var order = Enumerable.Range(0, keys.Length).ToArray();
        Array.Sort(keys.ToArray(), order);
        var ranks = new double[keys.Length];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && keys[order[end + 1]] == keys[order[start]]) end++;
            double rank = (start + end) / 2.0 + 1;
            for (int k = start; k <= end; k++) ranks[order[k]] = rank;
            start = end + 1;
        }
        return ranks;
    }
}
