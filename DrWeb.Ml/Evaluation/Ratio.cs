using System.Globalization;

namespace DrWeb.Ml.Evaluation;

/// <summary>A proportion together with the counts it comes from, so that every figure can be checked by hand.</summary>
public readonly record struct Ratio(int Numerator, int Denominator)
{
    /// <summary>The proportion; NaN when there is nothing to divide by (e.g. recall of a grade with no cases).</summary>
    public double Value => Denominator == 0 ? double.NaN : (double)Numerator / Denominator;

    public override string ToString() => Denominator == 0
        ? $"n/a (0/0)"
        : string.Create(CultureInfo.InvariantCulture, $"{Value:0.000} ({Numerator}/{Denominator})");
}
