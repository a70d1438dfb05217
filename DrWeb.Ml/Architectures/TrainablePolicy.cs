namespace DrWeb.Ml.Architectures;

/// <summary>
/// Which parameters train, by name prefix. A named policy, so that a run's manifest can say what was fine-tuned.
/// </summary>
public sealed record TrainablePolicy(string Name, IReadOnlyList<string> Prefixes)
{
    /// <summary>Everything trains.</summary>
    public static readonly TrainablePolicy All = new("all", [""]);

    /// <summary>Only the head trains.</summary>
    public static TrainablePolicy HeadOnly(FundusClassifier model) => new("head", [model.HeadName + "."]);

    /// <summary>The study's setting for DenseNet121: the last three dense layers and the head.</summary>
    public static readonly TrainablePolicy DenseNetPaper = new("paper", [
        "features.denseblock4.denselayer14.",
        "features.denseblock4.denselayer15.",
        "features.denseblock4.denselayer16.",
        "classifier.",
    ]);

    public bool Trains(string parameterName) =>
        Prefixes.Any(p => p.Length == 0 || parameterName.StartsWith(p, StringComparison.Ordinal));

    /// <summary>Fails when a prefix names nothing: a typo would otherwise freeze the whole model silently.</summary>
    public void Validate(IReadOnlyCollection<string> parameterNames)
    {
        var unused = Prefixes.Where(p => p.Length > 0 && !parameterNames.Any(n => n.StartsWith(p, StringComparison.Ordinal))).ToList();
        if (unused.Count > 0)
            throw new ArgumentException(
                $"Trainable policy '{Name}' names layers this model does not have: {string.Join(", ", unused)}.");
    }

    /// <summary>
    /// Parses a policy for <paramref name="model"/>: a known name (<c>paper</c>, <c>head</c>, <c>all</c>) or a
    /// comma-separated list of parameter-name prefixes.
    /// </summary>
    public static TrainablePolicy Parse(string value, FundusClassifier model) => value.Trim().ToLowerInvariant() switch
    {
        "all" => All,
        "head" => HeadOnly(model),
        "paper" => model.PaperPolicy,
        _ => new TrainablePolicy("custom", value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.EndsWith('.') ? p : p + ".").ToList()),
    };
}
