namespace DrWeb.Ml.Manifest;

/// <summary>Counts of (true grade, predicted grade) pairs. Rows are true grades, columns predicted grades.</summary>
public sealed class ConfusionMatrix
{
    private readonly int[,] _counts;

    public ConfusionMatrix(int classes = 5) => _counts = new int[classes, classes];

    public int Classes => _counts.GetLength(0);

    public int this[int truth, int predicted] => _counts[truth, predicted];

    public int Total { get; private set; }

    public void Add(int truth, int predicted)
    {
        if (truth < 0 || truth >= Classes) throw new ArgumentOutOfRangeException(nameof(truth), truth, $"Grades run from 0 to {Classes - 1}.");
        if (predicted < 0 || predicted >= Classes) throw new ArgumentOutOfRangeException(nameof(predicted), predicted, $"Grades run from 0 to {Classes - 1}.");
        _counts[truth, predicted]++;
        Total++;
    }

    public static ConfusionMatrix From(IEnumerable<(int Truth, int Predicted)> pairs, int classes = 5)
    {
        var m = new ConfusionMatrix(classes);
        foreach (var (t, p) in pairs) m.Add(t, p);
        return m;
    }

    public int[][] ToArray() =>
        Enumerable.Range(0, Classes).Select(t => Enumerable.Range(0, Classes).Select(p => _counts[t, p]).ToArray()).ToArray();

    public int Support(int grade) => Enumerable.Range(0, Classes).Sum(p => _counts[grade, p]);

    public int PredictedCount(int grade) => Enumerable.Range(0, Classes).Sum(t => _counts[t, grade]);

    public Ratio Accuracy => new(Enumerable.Range(0, Classes).Sum(g => _counts[g, g]), Total);

    /// <summary>Of the cases of this grade, how many were called this grade.</summary>
    public Ratio Recall(int grade) => new(_counts[grade, grade], Support(grade));

    /// <summary>Of the cases called this grade, how many were this grade.</summary>
    public Ratio Precision(int grade) => new(_counts[grade, grade], PredictedCount(grade));

    /// <summary>
    /// Quadratic weighted Cohen's kappa, the Kaggle 2015 DR metric: 1 - sum(w*O) / sum(w*E) with
    /// w[i,j] = (i-j)^2 / (K-1)^2 and E the outer product of the marginals scaled to the total. It is 1 for perfect
    /// agreement and 0 for chance; undefined (NaN) when the expected disagreement is zero, e.g. a single grade in both.
    /// </summary>
    public double QuadraticWeightedKappa
    {
        get
        {
            if (Total == 0) return double.NaN;
            int k = Classes;
            double observed = 0, expected = 0;
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++)
                {
                    double w = (double)(i - j) * (i - j) / ((k - 1) * (k - 1));
                    observed += w * _counts[i, j];
                    expected += w * Support(i) * (double)PredictedCount(j) / Total;
                }
            return expected == 0 ? double.NaN : 1 - observed / expected;
        }
    }
}
