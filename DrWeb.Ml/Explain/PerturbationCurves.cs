using DrWeb.Ml.Architectures;
using static TorchSharp.torch;

namespace DrWeb.Ml.Explain;

/// <summary>
/// A deletion and an insertion curve for one image and one saliency map, with their areas.
/// <see cref="Deletion"/>[k] is the target's probability after the k/steps most salient pixels were set to zero;
/// <see cref="Insertion"/>[k] after only they were revealed on an all-zero image. A faithful map makes deletion fall
/// fast (small area) and insertion rise fast (large area).
/// </summary>
public sealed record PerturbationCurve(double[] Fractions, double[] Deletion, double[] Insertion)
{
    /// <summary>The trapezoid area under the deletion curve over fractions 0..1; lower is better.</summary>
    public double DeletionAuc => Area(Deletion);

    /// <summary>The trapezoid area under the insertion curve; higher is better.</summary>
    public double InsertionAuc => Area(Insertion);

    private static double Area(double[] curve)
    {
        double area = 0;
        int steps = curve.Length - 1;
        for (int k = 0; k < steps; k++) area += (curve[k] + curve[k + 1]) / 2 / steps;
        return area;
    }
}

/// <summary>
/// Deletion and insertion (Petsiuk et al., RISE, 2018), in the simplified form with a zero baseline for both: "zero" is
/// the model's input space, i.e. the normalisation's mean. The pixel order is the saliency descending with ties by
/// ascending index (a stable sort), because equal values straddle step boundaries and any other tie rule changes the
/// curve. A pixel means all three channels at one position.
/// </summary>
public static class PerturbationCurves
{
    public const int DefaultSteps = 16;

    /// <summary>Pixel indices (row * width + column) by saliency, largest first; ties keep ascending index.</summary>
    public static int[] SaliencyOrder(ReadOnlySpan<float> saliency)
    {
        var order = new int[saliency.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var keys = saliency.ToArray();
        // Array.Sort is not stable; the index as a second key makes it so.
        Array.Sort(order, (a, b) => keys[a] != keys[b] ? keys[b].CompareTo(keys[a]) : a.CompareTo(b));
        return order;
    }

    /// <summary>
    /// Both curves for one image <paramref name="input"/> ([1, 3, H, W] on the model's device) and its saliency map
    /// (H x W). The score is the target's probability: softmax of <paramref name="targetClass"/>, or P(referable) for
    /// the referable target. The 2 x (steps + 1) perturbed images run through the model in batches of <paramref name="batchSize"/>.
    /// </summary>
    public static PerturbationCurve Measure(FundusClassifier model, Tensor input, HeatMap saliency, CamTarget target, int targetClass,
        int steps = DefaultSteps, int batchSize = 17)
    {
        if (input.shape[0] != 1) throw new ArgumentException("Measure one image at a time.", nameof(input));
        long height = input.shape[2], width = input.shape[3], n = height * width;
        if (saliency.Height != height || saliency.Width != width)
            throw new ArgumentException($"The saliency map is {saliency.Height}x{saliency.Width}, the input {height}x{width}; resize the map first.", nameof(saliency));
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), "At least one step.");

        int[] order = SaliencyOrder(saliency.Values);
        var rank = new float[n];
        for (int position = 0; position < order.Length; position++) rank[order[position]] = position;
        var counts = Enumerable.Range(0, steps + 1).Select(k => (float)(k * n / steps)).ToArray();

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // kept[k, i] = 1 when pixel i is among the first counts[k] of the order.
        Tensor revealed = tensor(rank, device: input.device).unsqueeze(0).lt(tensor(counts, device: input.device).unsqueeze(1))
            .to_type(input.dtype).view(steps + 1, 1, height, width);
        Tensor deletion = input.mul(revealed.neg().add(1));
        Tensor insertion = input.mul(revealed);
        var classes = tensor(new long[] { targetClass }, device: input.device);
        double[] Scores(Tensor images)
        {
            var scores = new List<double>(steps + 1);
            for (long start = 0; start < images.shape[0]; start += batchSize)
            {
                using var batchScope = NewDisposeScope();
                Tensor batch = images.narrow(0, start, Math.Min(batchSize, images.shape[0] - start));
                Tensor logits = model.call(batch);
                scores.AddRange(target.Probability(logits, classes.expand(batch.shape[0])).cpu().data<float>().ToArray().Select(v => (double)v));
            }
            return scores.ToArray();
        }
        return new PerturbationCurve(counts.Select(c => (double)c / n).ToArray(), Scores(deletion), Scores(insertion));
    }
}
