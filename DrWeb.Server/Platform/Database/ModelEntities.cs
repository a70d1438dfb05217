namespace DrWeb.Server.Platform.Database;

/// <summary>Where a registered model came from.</summary>
public enum ModelSource
{
    /// <summary>The demonstration model that ships beside the app.</summary>
    Starter,
    /// <summary>A DrWeb model folder an admin imported.</summary>
    Imported,
    /// <summary>Produced by a training run on this server.</summary>
    Trained,
}

/// <summary>
/// A DrWeb model folder (model.json + weights) known to the registry, with the manifest facts an admin compares
/// versions by. Exactly one version is active for screening at a time.
/// </summary>
public sealed class ModelVersion
{
    public Guid Id { get; set; } = Guid.NewGuid();

    /// <summary>Unique, human-readable name; also the folder name under <c>models/</c> in the data folder.</summary>
    public required string Name { get; set; }

    /// <summary><c>app:</c> + a path under the app's own folder (the starter), else a path under the data folder.</summary>
    public required string Location { get; set; }

    public required ModelSource Source { get; set; }
    public required string Architecture { get; set; }
    public required string Head { get; set; }
    public required string TrainablePolicy { get; set; }
    public required string Preprocessing { get; set; }
    public string? BaseWeights { get; set; }
    public string? DataFingerprint { get; set; }
    public string? Label { get; set; }

    /// <summary>When the model was made (from its manifest).</summary>
    public DateTimeOffset CreatedUtc { get; set; }
    public DateTimeOffset RegisteredUtc { get; set; } = DateTimeOffset.UtcNow;

    public int TrainImages { get; set; }
    public int ValidationImages { get; set; }
    public double? ReferableAuc { get; set; }
    public double? Sensitivity { get; set; }
    public double? Specificity { get; set; }
    public double? Accuracy { get; set; }
    public double? Kappa { get; set; }
    public string? Device { get; set; }
    public double TrainingSeconds { get; set; }

    public bool IsActive { get; set; }
    public DateTimeOffset? ActivatedUtc { get; set; }

    /// <summary>The run that trained it, for versions made on this server.</summary>
    public Guid? TrainingRunId { get; set; }

    /// <summary>
    /// The operating point an admin chose on the Models page (JSON of <see cref="Ml.Manifest.OperatingPoint"/>); null: the
    /// one recorded in the model's manifest. Kept here, not in the model folder, because a bundled model's folder is read-only.
    /// </summary>
    public string? OperatingPointJson { get; set; }

    /// <summary>How predictions name this model, e.g. <c>screening-resnet18 (demonstration model, not for clinical use)</c>.</summary>
    public string DisplayName => Label is null ? Name : $"{Name} ({Label})";
}

/// <summary>
/// An ImageNet checkpoint (torchvision <c>.pth</c> or safetensors) an admin imported as the starting point for training.
/// It was loaded into its architecture when imported, so a training run can rely on it.
/// </summary>
public sealed class BaseCheckpoint
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public required string Architecture { get; set; }

    /// <summary>The name the file had when uploaded, e.g. <c>densenet121-a639ec97.pth</c>.</summary>
    public required string OriginalName { get; set; }

    /// <summary>Path under the data folder.</summary>
    public required string Location { get; set; }
    public required string Sha256 { get; set; }
    public long SizeBytes { get; set; }
    public int LoadedTensors { get; set; }

    /// <summary>What the loader said, shown on the registry page.</summary>
    public required string LoaderReport { get; set; }
    public DateTimeOffset ImportedUtc { get; set; } = DateTimeOffset.UtcNow;
}

/// <summary>A model version measured on a set of labelled images (for a trained model: its run's validation split).</summary>
public sealed class ModelEvaluation
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public Guid ModelVersionId { get; set; }
    public ModelVersion? ModelVersion { get; set; }
    public Guid? RunId { get; set; }
    public required string Name { get; set; }
    public required string DataFingerprint { get; set; }
    public int Images { get; set; }

    /// <summary>The <c>EvaluationReport</c> as JSON: confusion matrix, per-grade figures, referable metrics.</summary>
    public required string ReportJson { get; set; }
    public double? ReferableAuc { get; set; }
    public double Sensitivity { get; set; }
    public double Specificity { get; set; }
    public double Accuracy { get; set; }
    public double Kappa { get; set; }

    /// <summary>The threshold on P(referable) the cases' referral flags were decided with; null: the argmax-grade rule.</summary>
    public double? ReferralThreshold { get; set; }
    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;

    public List<EvaluationCase> Cases { get; set; } = [];
}

/// <summary>An admin's change of a model version's referral threshold: who, when, from what to what.</summary>
public sealed class OperatingPointChange
{
    public long Id { get; set; }
    public Guid ModelVersionId { get; set; }
    public ModelVersion? ModelVersion { get; set; }
    public required string ChangedBy { get; set; }
    public DateTimeOffset ChangedUtc { get; set; } = DateTimeOffset.UtcNow;
    public double? PreviousThreshold { get; set; }
    public double Threshold { get; set; }

    /// <summary>What the threshold was set for, e.g. "set for sensitivity 0.87 on 1,676 validation images".</summary>
    public required string Basis { get; set; }
    public double ValidationSensitivity { get; set; }
    public double ValidationSpecificity { get; set; }
}

public enum ExplanationStudyStatus { Queued, Running, Succeeded, Failed, Cancelled }

/// <summary>An explanation study of one model version over one folder of photographs, run as a background job.</summary>
public sealed class ExplanationStudyRun
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public Guid ModelVersionId { get; set; }
    public required string DatasetName { get; set; }

    /// <summary>Absolute path of the photographs: a lesion atlas or a registered dataset.</summary>
    public required string DatasetFolder { get; set; }

    /// <summary>Comma-separated method names; empty for all.</summary>
    public string Methods { get; set; } = "";
    public string Target { get; set; } = "predicted";
    public int? Limit { get; set; }
    public bool Faithfulness { get; set; } = true;
    public ExplanationStudyStatus Status { get; set; }
    public int Done { get; set; }
    public int Total { get; set; }

    /// <summary>Where the report is, relative to the data folder.</summary>
    public required string OutputFolder { get; set; }
    public string? Message { get; set; }
    public required string RequestedBy { get; set; }
    public string? HangfireJobId { get; set; }
    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? StartedUtc { get; set; }
    public DateTimeOffset? FinishedUtc { get; set; }
}
