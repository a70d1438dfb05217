using System.Globalization;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Manifest;
using DrWeb.Ml.Training;

namespace DrWeb.Server.Training;

public enum RunStart { Now, At, Recurring }

/// <summary>
/// The new-run form's fields, filled from a preset (DrWeb's screening recipe unless the admin picks the study's), and
/// their translation into <see cref="RunSettings"/>.
/// </summary>
public sealed class RunForm
{
    public RunForm() => ApplyPreset(TrainingPreset.Default);

    public string Preset { get; private set; } = TrainingPreset.Default.Name;
    public string? Name { get; set; }
    public Guid? DatasetId { get; set; }

    /// <summary>More datasets trained together with the first one (one patient-level split over all of them).</summary>
    public IReadOnlyCollection<Guid> AdditionalDatasetIds { get; set; } = [];
    public string Architecture { get; set; } = "resnet18";
    public Guid? BaseCheckpointId { get; set; }
    public HeadKind Head { get; set; }
    public string Trainable { get; set; } = "";
    public int Epochs { get; set; }
    public int BatchSize { get; set; }
    public int AccumulationSteps { get; set; }
    public int EpochSize { get; set; }
    public double LearningRate { get; set; }
    public double Beta1 { get; set; }
    public double Beta2 { get; set; }
    public double Epsilon { get; set; }
    public double WeightDecay { get; set; }
    public bool DecoupledWeightDecay { get; set; }
    public LrSchedule Schedule { get; set; }
    public int WarmupSteps { get; set; }
    public double LabelSmoothing { get; set; }
    public SamplerKind Sampler { get; set; }
    public string SamplerWeights { get; set; } = "";
    public bool Augment { get; set; }
    public float RotationDegrees { get; set; }
    public float FlipProbability { get; set; }
    public float TranslateFraction { get; set; }
    public float GrayscaleProbability { get; set; }
    public float ColourJitter { get; set; }
    public double ValidationFraction { get; set; }
    public int Seed { get; set; }
    public StoppingMetric StoppingMetric { get; set; }
    public int Patience { get; set; }
    public string? Label { get; set; }
    public bool SkipBadRows { get; set; }
    public bool CropFundus { get; set; }
    public ColourRecipe Recipe { get; set; }

    /// <summary>Fills every training field from <paramref name="preset"/>; the dataset, name, label and start stay.</summary>
    public void ApplyPreset(TrainingPreset preset)
    {
        var o = preset.Options;
        Preset = preset.Name;
        Head = Heads.Parse(preset.Head);
        Trainable = o.Trainable;
        (Epochs, BatchSize, AccumulationSteps, EpochSize) = (o.Epochs, o.BatchSize, o.AccumulationSteps, o.EpochSize);
        (LearningRate, Beta1, Beta2, Epsilon) = (o.LearningRate, o.Beta1, o.Beta2, o.Epsilon);
        (WeightDecay, DecoupledWeightDecay, Schedule, WarmupSteps, LabelSmoothing) = (o.WeightDecay, o.DecoupledWeightDecay, o.Schedule, o.WarmupSteps, o.LabelSmoothing);
        Sampler = o.Sampler;
        SamplerWeights = string.Join(", ", o.SamplerWeights.Select(w => w.ToString(CultureInfo.InvariantCulture)));
        Augment = o.Augmentation.Enabled;
        var a = o.Augmentation.Enabled ? o.Augmentation : new AugmentationOptions();
        (RotationDegrees, FlipProbability, TranslateFraction, GrayscaleProbability, ColourJitter) =
            (a.RotationDegrees, a.HorizontalFlipProbability, a.TranslateFraction, a.GrayscaleProbability, a.Brightness);
        (ValidationFraction, Seed, StoppingMetric, Patience) = (o.ValidationFraction, o.Seed, o.StoppingMetric, o.EarlyStoppingPatience);
        (CropFundus, Recipe) = (preset.CropFundus, preset.Recipe);
    }

    public RunStart Start { get; set; } = RunStart.Now;
    public DateTime? StartDate { get; set; }
    public TimeSpan? StartTime { get; set; }
    public string Cron { get; set; } = "0 2 * * 0";

    /// <summary>
    /// The settings, or every reason they cannot be run: what the fields cannot say (unreadable weights), then
    /// <see cref="RunSettings.Problems"/>, the one check that the API, the command line and schedules also go through.
    /// </summary>
    public (RunSettings? Settings, List<string> Problems) ToSettings()
    {
        var problems = new List<string>();
        var weights = SamplerWeights.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries)
            .Select(w => double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : double.NaN).ToArray();
        if (weights.Length != 5 || weights.Any(double.IsNaN))
        {
            problems.Add("Sampler weights: give five numbers, one per grade 0-4, e.g. 0.1, 1, 0.5, 3, 4.");
            weights = EpochSampler.PaperWeights;
        }

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
            WeightDecay = WeightDecay, DecoupledWeightDecay = DecoupledWeightDecay, Schedule = Schedule, WarmupSteps = WarmupSteps,
            LabelSmoothing = LabelSmoothing, EpochSize = Sampler == SamplerKind.Shuffle ? 0 : EpochSize,
        };
        var settings = new RunSettings
        {
            DatasetId = DatasetId ?? Guid.Empty, AdditionalDatasetIds = AdditionalDatasetIds.Where(id => id != DatasetId).Distinct().ToList(), Architecture = Architecture, BaseCheckpointId = Architecture == "resnet18" ? null : BaseCheckpointId,
            Head = Head, Options = options, SkipBadRows = SkipBadRows, CropFundus = CropFundus, Recipe = Recipe, Label = string.IsNullOrWhiteSpace(Label) ? null : Label.Trim(),
        };
        problems.AddRange(settings.Problems());
        return problems.Count > 0 ? (null, problems) : (settings, problems);
    }

    /// <summary>The chosen start time in UTC, when starting later.</summary>
    public DateTimeOffset? StartAtUtc => StartDate is { } d && StartTime is { } t
        ? new DateTimeOffset(DateTime.SpecifyKind(d.Date + t, DateTimeKind.Utc))
        : null;
}
