using DrWeb.Ml.Architectures;
using static TorchSharp.torch;

namespace DrWeb.Ml.Explain;

/// <summary>ROAD's result at one percentile: how far the target's score moved when the most relevant pixels were imputed away.</summary>
/// <param name="Percentile">The share of pixels kept, in percent (pytorch-grad-cam's <c>percentile</c>).</param>
/// <param name="Threshold">Pixels with saliency at or above it were removed.</param>
/// <param name="Removed">How many pixels were imputed.</param>
/// <param name="Score">The target's score on the imputed image minus its score on the original (a logit for a grade,
/// P(referable) for the referable target). More negative means the map found what the model uses.</param>
public sealed record RoadStep(int Percentile, float Threshold, int Removed, float Score);

/// <summary>ROAD over several percentiles; <see cref="Mean"/> is what <c>ROADMostRelevantFirstAverage</c> reports.</summary>
public sealed record RoadResult(IReadOnlyList<RoadStep> Steps)
{
    public double Mean => Steps.Count == 0 ? double.NaN : Steps.Average(s => (double)s.Score);
}

/// <summary>
/// ROAD, "remove and debias", most relevant first (Rong et al. 2022; pytorch-grad-cam <c>metrics/road.py</c>). Instead
/// of blacking out pixels, which puts shapes into the image that the model may react to, each removed pixel is
/// replaced by the weighted mean of its 8 neighbours (1/6 for the four beside it, 1/12 for the diagonals), solved for
/// all removed pixels at once: a sparse symmetric positive definite system per channel, solved here by conjugate
/// gradients in float64. The imputation is noise-free by default (road.py adds unseeded noise of 0.01; pass
/// <c>noise</c> to do the same with a seed).
/// </summary>
public static class Road
{
    public static readonly int[] DefaultPercentiles = [20, 40, 60, 80];

    private const int MaxIterations = 20_000;
    private const double Side = 1.0 / 6, Diagonal = 1.0 / 12;
    private static readonly (int Dy, int Dx, double W)[] Neighbours =
    [
        (-1, -1, Diagonal), (-1, 0, Side), (-1, 1, Diagonal), (0, -1, Side), (0, 1, Side), (1, -1, Diagonal), (1, 0, Side), (1, 1, Diagonal),
    ];

    /// <summary>numpy's <c>percentile</c> with its default linear interpolation.</summary>
    public static float Percentile(ReadOnlySpan<float> values, double percent)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        double position = percent / 100 * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        double fraction = position - below;
        return (float)(sorted[below] + (sorted[above] - (double)sorted[below]) * fraction);
    }

    /// <summary>
    /// ROAD at each percentile for one image ([1, C, H, W] on the model's device) and its H x W saliency map: pixels with
    /// saliency at or above the percentile's value are imputed, and the target's score is compared with the original's.
    /// </summary>
    public static RoadResult MostRelevantFirst(FundusClassifier model, Tensor input, HeatMap saliency, CamTarget target, int targetClass,
        IReadOnlyList<int>? percentiles = null, double noise = 0, int seed = 0)
    {
        percentiles ??= DefaultPercentiles;
        if (input.shape[0] != 1) throw new ArgumentException("ROAD measures one image at a time.", nameof(input));
        int channels = (int)input.shape[1], height = (int)input.shape[2], width = (int)input.shape[3];
        if (saliency.Height != height || saliency.Width != width)
            throw new ArgumentException($"The saliency map is {saliency.Height}x{saliency.Width}, the input {height}x{width}; resize the map first.", nameof(saliency));

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        float[] image = input.cpu().contiguous().data<float>().ToArray();
        var classes = tensor(new long[] { targetClass }, device: input.device);
        float Score(Tensor batch) => target.Score(model.call(batch), classes).cpu().item<float>();
        float original = Score(input);
        var steps = new List<RoadStep>(percentiles.Count);
        foreach (int percentile in percentiles)
        {
            using var stepScope = NewDisposeScope();
            float threshold = Percentile(saliency.Values, percentile);
            var removed = saliency.Values.Select(v => v >= threshold).ToArray();
            float[] imputed = Impute(image, channels, height, width, removed, noise, seed);
            float score = Score(tensor(imputed, [1, channels, height, width]).to(input.device));
            steps.Add(new RoadStep(percentile, threshold, removed.Count(r => r), score - original));
        }
        return new RoadResult(steps);
    }

    /// <summary>
    /// The image ([C, H, W] row-major) with every <paramref name="removed"/> pixel replaced, in each channel, by the
    /// solution of D_i x_i − Σ_(j removed) w_j x_j = Σ_(j kept) w_j v_j over its in-image neighbours j (D_i = the sum of
    /// those neighbours' weights; neighbours outside the image are dropped, not renormalised). Kept pixels are copied.
    /// </summary>
    public static float[] Impute(float[] image, int channels, int height, int width, bool[] removed, double noise = 0, int seed = 0)
    {
        int plane = height * width;
        if (image.Length != channels * plane || removed.Length != plane)
            throw new ArgumentException("The image must be [channels, height, width] and the removed mask height x width.");
        var unknown = new int[plane];
        var pixels = new List<int>();
        for (int i = 0; i < plane; i++)
        {
            unknown[i] = removed[i] ? pixels.Count : -1;
            if (removed[i]) pixels.Add(i);
        }
        int m = pixels.Count;
        var result = (float[])image.Clone();
        if (m == 0) return result;

        // The system's structure is the same in every channel: per unknown, its diagonal and removed neighbours.
        var diagonal = new double[m];
        var neighbourStart = new int[m + 1];
        var neighbourIndex = new List<int>(m * 8);
        var neighbourWeight = new List<double>(m * 8);
        var keptStart = new int[m + 1];
        var keptPixel = new List<int>();
        var keptWeight = new List<float>();
        for (int u = 0; u < m; u++)
        {
            int y = pixels[u] / width, x = pixels[u] % width;
            foreach (var (dy, dx, w) in Neighbours)
            {
                int ny = y + dy, nx = x + dx;
                if (ny < 0 || ny >= height || nx < 0 || nx >= width) continue;
                diagonal[u] += w;
                int j = ny * width + nx;
                if (unknown[j] >= 0) { neighbourIndex.Add(unknown[j]); neighbourWeight.Add(w); }
                else { keptPixel.Add(j); keptWeight.Add((float)w); }
            }
            neighbourStart[u + 1] = neighbourIndex.Count;
            keptStart[u + 1] = keptPixel.Count;
        }
        var columns = neighbourIndex.ToArray();
        var weights = neighbourWeight.ToArray();
        void Multiply(double[] v, double[] into)
        {
            for (int u = 0; u < m; u++)
            {
                double sum = diagonal[u] * v[u];
                for (int k = neighbourStart[u]; k < neighbourStart[u + 1]; k++) sum -= weights[k] * v[columns[k]];
                into[u] = sum;
            }
        }

        // The channels are independent systems with one matrix: solve them side by side.
        var solutions = new double[channels][];
        Parallel.For(0, channels, c =>
        {
            int offset = c * plane;
            var b = new double[m];
            for (int u = 0; u < m; u++)
                for (int k = keptStart[u]; k < keptStart[u + 1]; k++)
                    b[u] += keptWeight[k] * image[offset + keptPixel[k]]; // a float32 product, summed in float64, as road.py does
            solutions[c] = ConjugateGradients(Multiply, b);
        });
        var random = noise > 0 ? new Random(seed) : null;
        for (int c = 0; c < channels; c++)
            for (int u = 0; u < m; u++)
            {
                double value = solutions[c][u];
                if (random is not null) value += noise * Gaussian(random);
                result[c * plane + pixels[u]] = (float)value;
            }
        return result;
    }

    /// <summary>Conjugate gradients for a symmetric positive definite operator, to a relative residual below 1e-13.</summary>
    private static double[] ConjugateGradients(Action<double[], double[]> multiply, double[] b)
    {
        int m = b.Length;
        var x = new double[m];
        var r = (double[])b.Clone();
        var p = (double[])b.Clone();
        var q = new double[m];
        double bNorm = Math.Sqrt(Dot(b, b));
        if (bNorm == 0) return x;
        double rr = Dot(r, r);
        for (int iteration = 0; iteration < MaxIterations && Math.Sqrt(rr) > 1e-13 * bNorm; iteration++)
        {
            multiply(p, q);
            double alpha = rr / Dot(p, q);
            for (int i = 0; i < m; i++) { x[i] += alpha * p[i]; r[i] -= alpha * q[i]; }
            double next = Dot(r, r);
            double beta = next / rr;
            rr = next;
            for (int i = 0; i < m; i++) p[i] = r[i] + beta * p[i];
        }
        return x;
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
