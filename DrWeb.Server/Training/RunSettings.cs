using System.Text.Json;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Manifest;

namespace DrWeb.Server.Training;

/// <summary>What an admin chose for a training run. The defaults are the study's.</summary>
public sealed record RunSettings
{
    public Guid DatasetId { get; init; }

    /// <summary>More registered datasets trained together with <see cref="DatasetId"/>: one patient-level split over their union.</summary>
    public IReadOnlyList<Guid> AdditionalDatasetIds { get; init; } = [];

    /// <summary>Every dataset of the run, the first one first.</summary>
    public IEnumerable<Guid> AllDatasetIds => AdditionalDatasetIds.Prepend(DatasetId).Distinct();
    public string Architecture { get; init; } = "resnet18";

    /// <summary>An imported ImageNet checkpoint; null for ResNet18's bundled weights.</summary>
    public Guid? BaseCheckpointId { get; init; }

    public HeadKind Head { get; init; } = HeadKind.Paper;
    public TrainingOptions Options { get; init; } = new();

    /// <summary>
    /// Crop each photograph to its fundus circle before anything else (recorded with the model, applied at inference).
    /// Off when absent, so settings stored before it existed mean what they meant; the new-run form turns it on.
    /// </summary>
    public bool CropFundus { get; init; }

    /// <summary>Colour normalisation of the cropped view; None when absent, as for <see cref="CropFundus"/>.</summary>
    public ColourRecipe Recipe { get; init; } = ColourRecipe.None;

    /// <summary>
    /// Leave out dataset rows with problems (missing, unreadable or mislabelled images) instead of failing the run.
    /// Off by default, so that nothing is dropped without the admin choosing it.
    /// </summary>
    public bool SkipBadRows { get; init; }

    /// <summary>Shown wherever the resulting model is used.</summary>
    public string? Label { get; init; }

    /// <summary>Every problem with these settings, in words; empty when they can be run.</summary>
    public List<string> Problems()
    {
        var problems = new List<string>();
        if (DatasetId == Guid.Empty) problems.Add("Choose a dataset.");
        if (!ModelFactory.Architectures.Contains(Architecture))
            problems.Add($"Architecture must be one of {string.Join(", ", ModelFactory.Architectures)}.");
        else if (Architecture != "resnet18" && BaseCheckpointId is null)
            problems.Add($"{Architecture} needs ImageNet base weights: import its torchvision checkpoint on the Models page first.");
        problems.AddRange(Options.Problems().Select(p => char.ToUpperInvariant(p[0]) + p[1..] + "."));
        if (Options.Epochs > 500) problems.Add("Epochs must be at most 500.");
        if (Options.BatchSize > 256) problems.Add("Batch size must be at most 256.");
        if (Options.Sampler == SamplerKind.Weighted && Options.SamplerWeights.Sum() <= 0)
            problems.Add("The sampler weights must not all be zero.");
        if (Label is { Length: > 200 }) problems.Add("The label must be at most 200 characters.");
        return problems;
    }

    public static readonly JsonSerializerOptions Json = new(Ml.Manifest.ModelManifest.Json) { WriteIndented = false };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static RunSettings FromJson(string json) =>
        JsonSerializer.Deserialize<RunSettings>(json, Json) ?? throw new InvalidDataException("Empty run settings.");
}
