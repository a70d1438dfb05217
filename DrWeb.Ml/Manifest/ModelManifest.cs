using System.Text.Json;
using System.Text.Json.Serialization;
using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;

namespace DrWeb.Ml.Manifest;

/// <summary>
/// Everything needed to load and trust a trained model without guessing: what it is, how its input is prepared, what
/// it was trained on and how well it did. Stored as <c>model.json</c> beside the weights.
/// </summary>
public sealed record ModelManifest
{
    public const string FileName = "model.json";
    public const string DemonstrationLabel = "demonstration model, not for clinical use";

    public int FormatVersion { get; init; } = 1;
    public required string Architecture { get; init; }
    public required HeadKind Head { get; init; }
    public int NumClasses { get; init; } = 5;
    public IReadOnlyList<string> ClassNames { get; init; } = DrGrade.Names;
    public required string TrainablePolicy { get; init; }
    public required IReadOnlyList<string> TrainablePrefixes { get; init; }
    public required Preprocessing Preprocessing { get; init; }

    /// <summary>Where the weights not stored here come from: <c>bundled:ResNet18.onnx</c>, or null when the file is complete.</summary>
    public string? BaseWeights { get; init; }

    /// <summary>The weights file in this folder.</summary>
    public string WeightsFile { get; init; } = "weights.safetensors";

    /// <summary>Further weight files when the tensors are stored in parts (each at most <see cref="ModelDirectory.MaxWeightsFileBytes"/>).</summary>
    public IReadOnlyList<string> MoreWeightsFiles { get; init; } = [];

    /// <summary>Every weights file, the first one first.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> AllWeightsFiles => [WeightsFile, .. MoreWeightsFiles];

    /// <summary><c>full</c>, or <c>trained-only</c> when the rest comes from <see cref="BaseWeights"/>.</summary>
    public string WeightsContent { get; init; } = "full";

    /// <summary><c>fp32</c>, or <c>fp16</c> when the stored tensors were halved to keep the file small (loaded back as fp32).</summary>
    public string WeightsPrecision { get; init; } = "fp32";

    /// <summary>A short label shown wherever the model is used, e.g. <see cref="DemonstrationLabel"/>.</summary>
    public string? Label { get; init; }

    public TrainingOptions? Training { get; init; }
    /// <summary>The training data: one folder, or several joined with " + ".</summary>
    public string? DataFolder { get; init; }
    public string? DataFingerprint { get; init; }

    /// <summary>Every dataset folder of the run with its own fingerprint and size.</summary>
    public IReadOnlyList<Data.DatasetFingerprint> DataFolders { get; init; } = [];

    /// <summary>How near-duplicate photographs were grouped before splitting, e.g. "near-duplicates: 11 group(s) of 22 images ...".</summary>
    public string? NearDuplicates { get; init; }
    public int TrainImages { get; init; }
    public int ValidationImages { get; init; }

    /// <summary>Image ids of the validation split, so that evaluation can be repeated on exactly those images.</summary>
    public IReadOnlyList<string> ValidationIds { get; init; } = [];
    public EvaluationReport? Validation { get; init; }

    /// <summary>The validation figures of each source (population and camera) on its own.</summary>
    public IReadOnlyList<SourceReport> ValidationBySource { get; init; } = [];

    /// <summary>Image ids set aside before training and model selection; the figures below were measured on them once, at the end.</summary>
    public IReadOnlyList<string> TestIds { get; init; } = [];
    public EvaluationReport? Test { get; init; }
    public IReadOnlyList<SourceReport> TestBySource { get; init; } = [];
    /// <summary>
    /// Test-time augmentation: every grading averages the probabilities of the view and its mirror image (at T = 1,
    /// before temperature scaling). The temperature and the operating point were fitted on predictions made the same way.
    /// </summary>
    public bool TestTimeFlip { get; init; }

    /// <summary>Temperature scaling fitted on the validation images, with NLL and reliability before and after.</summary>
    public CalibrationReport? Calibration { get; init; }

    /// <summary>The referral threshold on P(referable) and what it was chosen for; null refers by the most likely grade.</summary>
    public OperatingPoint? OperatingPoint { get; init; }

    /// <summary>Each validation image's referable truth and calibrated P(referable): the ROC that operating points are chosen on.</summary>
    public IReadOnlyList<ValidationScore> ValidationScores { get; init; } = [];

    /// <summary>Every operating point this model has had, oldest first, with who chose it and when.</summary>
    public IReadOnlyList<OperatingPointChange> OperatingPointHistory { get; init; } = [];

    /// <summary>
    /// The members of an ensemble, in the order of their tensors (<c>members.{i}.</c>); empty for a single model. Each
    /// member was trained on the same split with its own seed; the calibration and operating point above are the
    /// ensemble's own, fitted on its averaged predictions.
    /// </summary>
    public IReadOnlyList<EnsembleMember> EnsembleMembers { get; init; } = [];

    [JsonIgnore]
    public bool IsEnsemble => EnsembleMembers.Count > 0;

    public IReadOnlyList<EpochSummary> History { get; init; } = [];
    public int BestEpoch { get; init; }
    public string? Device { get; init; }
    public double TrainingSeconds { get; init; }
    public DateTimeOffset CreatedUtc { get; init; } = DateTimeOffset.UtcNow;

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}

/// <summary>One member of an ensemble: where it came from, its seed, and its own validation figures before joining.</summary>
public sealed record EnsembleMember(string Name, int Seed, int BestEpoch, double ValidationAuc, double TrainingSeconds);
