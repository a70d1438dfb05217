namespace DrWeb.Ml.Manifest;

/// <summary>A validation image's referable truth and its P(referable) after temperature scaling: what operating points are chosen on.</summary>
public sealed record ValidationScore(bool Referable, double Probability);
