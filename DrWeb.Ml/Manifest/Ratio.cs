using System.Globalization;

namespace DrWeb.Ml.Manifest;

/// <summary>A proportion together with the counts it comes from, so that every figure can be checked by hand.</summary>
public readonly record struct Ratio(int Numerator, int Denominator)
{
    /// <summary>The proportion; NaN when there is nothing to divide by (e.g. recall of a grade with no cases).</summary>
    public double Value => Denominator == 0 ? double.NaN : (double)Numerator / Denominator;

    /// <summary>The Wilson score 95% interval; (NaN, NaN) with nothing to divide by.</summary>
    public (double Lower, double Upper) Wilson95()
    {
        if (Denominator == 0) return (double.NaN, double.NaN);
        const double z = 1.959963984540054;
        double n = Denominator, p = Value, z2 = z * z;
        double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        double half = z * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
        return (Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    public override string ToString() => Denominator == 0
        ? $"n/a (0/0)"
        : string.Create(CultureInfo.InvariantCulture, $"{Value:0.000} ({Numerator}/{Denominator})");
}
