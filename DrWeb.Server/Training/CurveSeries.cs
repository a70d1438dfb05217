namespace DrWeb.Server.Training;

/// <summary>One named line of a <see cref="LineChart"/>; null marks a missing value.</summary>
public sealed record CurveSeries(string Name, IReadOnlyList<double?> Values);
