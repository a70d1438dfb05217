using System.Globalization;
using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Models;
using DrWeb.Ml.Training;
using DrWeb.Server.Services;

namespace DrWeb.Server.Components.Pages.Training;

public enum RunStart { Now, At, Recurring }

/// <summary>The new-run form's fields, filled with the study's defaults, and their translation into <see cref="RunSettings"/>.</summary>
public sealed class RunForm
{
    private static readonly TrainingOptions Paper = new();

    public string? Name { get; set; }
    public Guid? DatasetId { get; set; }
    public string Architecture { get; set; } = "resnet18";
    public Guid? BaseCheckpointId { get; set; }
    public HeadKind Head { get; set; } = HeadKind.Paper;
    public string Trainable { get; set; } = Paper.Trainable;
    public int Epochs { get; set; } = Paper.Epochs;
    public int BatchSize { get; set; } = Paper.BatchSize;
    public int AccumulationSteps { get; set; } = Paper.AccumulationSteps;
    public double LearningRate { get; set; } = Paper.LearningRate;
    public double Beta1 { get; set; } = Paper.Beta1;
    public double Beta2 { get; set; } = Paper.Beta2;
    public double Epsilon { get; set; } = Paper.Epsilon;
    public SamplerKind Sampler { get; set; } = Paper.Sampler;
    public string SamplerWeights { get; set; } = string.Join(", ", Paper.SamplerWeights.Select(w => w.ToString(CultureInfo.InvariantCulture)));
    public bool Augment { get; set; } = true;
    public float RotationDegrees { get; set; } = Paper.Augmentation.RotationDegrees;
    public float FlipProbability { get; set; } = Paper.Augmentation.HorizontalFlipProbability;
    public float TranslateFraction { get; set; } = Paper.Augmentation.TranslateFraction;
    public float GrayscaleProbability { get; set; } = Paper.Augmentation.GrayscaleProbability;
    public float ColourJitter { get; set; } = Paper.Augmentation.Brightness;
    public double ValidationFraction { get; set; } = Paper.ValidationFraction;
    public int Seed { get; set; } = Paper.Seed;
    public StoppingMetric StoppingMetric { get; set; } = Paper.StoppingMetric;
    public int Patience { get; set; }
    public string? Label { get; set; }
    public bool SkipBadRows { get; set; }

    // New models prepare photographs as the starter does (see the README's robustness study), since doctors upload camera originals.
    public bool CropFundus { get; set; } = true;
    public ColourRecipe Recipe { get; set; } = StarterRecipe;

    /// <summary>The starter model's colour recipe, chosen from the robustness study.</summary>
    public const ColourRecipe StarterRecipe = ColourRecipe.Clahe;

    public RunStart Start { get; set; } = RunStart.Now;
    public DateTime? StartDate { get; set; }
    public TimeSpan? StartTime { get; set; }
    public string Cron { get; set; } = "0 2 * * 0";

    /// <summary>The settings, or the reasons the fields cannot become settings (the services check the rest).</summary>
    public (RunSettings? Settings, List<string> Problems) ToSettings()
    {
        var problems = new List<string>();
        var weights = SamplerWeights.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries)
            .Select(w => double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : double.NaN).ToArray();
        if (weights.Length != 5 || weights.Any(double.IsNaN))
            problems.Add("Sampler weights: give five numbers, one per grade 0-4, e.g. 0.1, 1, 0.5, 3, 4.");
        if (DatasetId is null) problems.Add("Choose a dataset.");
        foreach (var (value, name) in new[] { (FlipProbability, "flip probability"), (GrayscaleProbability, "grayscale probability") })
            if (value is < 0 or > 1) problems.Add($"The {name} must be between 0 and 1.");
        if (RotationDegrees is < 0 or > 180) problems.Add("Rotation must be 0 to 180 degrees.");
        if (TranslateFraction is < 0 or > 0.5f) problems.Add("Translation must be 0 to 0.5 of the image.");
        if (ColourJitter is < 0 or > 1) problems.Add("Colour jitter must be between 0 and 1.");
        if (Patience < 0) problems.Add("Patience must be 0 (off) or more.");
        if (problems.Count > 0) return (null, problems);

        var augmentation = Augment
            ? new AugmentationOptions
            {
                RotationDegrees = RotationDegrees, HorizontalFlipProbability = FlipProbability, VerticalFlipProbability = FlipProbability,
                TranslateFraction = TranslateFraction, GrayscaleProbability = GrayscaleProbability,
                Brightness = ColourJitter, Contrast = ColourJitter, Saturation = ColourJitter, Hue = Math.Min(0.5f, ColourJitter / 10),
            }
            : AugmentationOptions.None;
        var options = new TrainingOptions
        {
            Epochs = Epochs, BatchSize = BatchSize, AccumulationSteps = AccumulationSteps, LearningRate = LearningRate, Beta1 = Beta1,
            Beta2 = Beta2, Epsilon = Epsilon, Sampler = Sampler, SamplerWeights = weights, Augmentation = augmentation,
            ValidationFraction = ValidationFraction, Seed = Seed, StoppingMetric = StoppingMetric, EarlyStoppingPatience = Patience,
            Trainable = string.IsNullOrWhiteSpace(Trainable) ? "paper" : Trainable.Trim(),
        };
        return (new RunSettings
        {
            DatasetId = DatasetId!.Value, Architecture = Architecture, BaseCheckpointId = Architecture == "resnet18" ? null : BaseCheckpointId,
            Head = Head, Options = options, SkipBadRows = SkipBadRows, CropFundus = CropFundus, Recipe = Recipe, Label = string.IsNullOrWhiteSpace(Label) ? null : Label.Trim(),
        }, problems);
    }

    /// <summary>The chosen start time in UTC, when starting later.</summary>
    public DateTimeOffset? StartAtUtc => StartDate is { } d && StartTime is { } t
        ? new DateTimeOffset(DateTime.SpecifyKind(d.Date + t, DateTimeKind.Utc))
        : null;
}
