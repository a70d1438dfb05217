namespace DrWeb.Ml.Data;

/// <summary>How training images are drawn each epoch.</summary>
public enum SamplerKind
{
    /// <summary>Each image once per epoch, in a fresh random order.</summary>
    Shuffle,

    /// <summary>Weighted draws with replacement, per-grade weights given (the paper: 0.1, 1, 0.5, 3, 4).</summary>
    Weighted,

    /// <summary>Weighted draws with replacement, weight = 1 / (images of that grade): every grade equally often.</summary>
    InverseFrequency,

    /// <summary>Weight = 1 / sqrt(images of that grade): rare grades drawn more often, without repeating a handful of them endlessly.</summary>
    SquareRootInverseFrequency,
}

/// <summary>The order in which an epoch visits the training images, reproducible from (seed, epoch).</summary>
public static class EpochSampler
{
    public static readonly double[] PaperWeights = [0.1, 1, 0.5, 3, 4];

    /// <summary>Indices into <paramref name="grades"/>: as many as there are images, or <paramref name="draws"/> for a sampler drawing with replacement.</summary>
    public static int[] Indices(IReadOnlyList<int> grades, SamplerKind kind, double[]? gradeWeights, int seed, int epoch, int draws = 0)
    {
        var rng = new Random(Seeds.Mix(seed, epoch, 0x5A3));
        int n = grades.Count;
        if (kind == SamplerKind.Shuffle)
        {
            var order = Enumerable.Range(0, n).ToArray();
            rng.Shuffle(order);
            return order;
        }
        double[] perGrade = kind switch
        {
            SamplerKind.InverseFrequency => InverseFrequency(grades),
            SamplerKind.SquareRootInverseFrequency => InverseFrequency(grades).Select(Math.Sqrt).ToArray(),
            _ => gradeWeights ?? PaperWeights,
        };
        if (perGrade.Length != 5 || perGrade.Any(w => w < 0 || double.IsNaN(w)) || perGrade.All(w => w == 0))
            throw new ArgumentException("Sampler weights need five non-negative numbers, one per grade, not all zero.");
        // Cumulative weights, then inverse-CDF draws with replacement (what torch's WeightedRandomSampler does).
        var cumulative = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++) cumulative[i] = total += perGrade[grades[i]];
        var result = new int[draws > 0 ? draws : n];
        for (int k = 0; k < result.Length; k++)
        {
            int idx = Array.BinarySearch(cumulative, rng.NextDouble() * total);
            result[k] = Math.Min(idx < 0 ? ~idx : idx, n - 1);
        }
        return result;
    }

    public static double[] InverseFrequency(IReadOnlyList<int> grades)
    {
        var counts = new int[5];
        foreach (int g in grades) counts[g]++;
        return counts.Select(c => c == 0 ? 0.0 : 1.0 / c).ToArray();
    }

    public static SamplerKind Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "paper" or "weighted" => SamplerKind.Weighted,
        "auto" => SamplerKind.InverseFrequency,
        "sqrt" => SamplerKind.SquareRootInverseFrequency,
        "none" or "shuffle" => SamplerKind.Shuffle,
        _ => throw new ArgumentException($"Unknown sampler '{name}'. Use paper, auto, sqrt or none."),
    };
}
