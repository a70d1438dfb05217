using Microsoft.AspNetCore.Identity;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Components.Pages;

namespace DrWeb.Server.Platform.Database;

/// <summary>A person who signs in: a doctor, an educator or an admin (roles live in Identity's tables).</summary>
public sealed class DrWebUser : IdentityUser;

/// <summary>One uploaded fundus photograph and what was said about it.</summary>
public sealed class Case
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>SHA-256 of the original bytes; the file lives in the image store under this name.</summary>
    public required string ImageHash { get; set; }

    public required string FileName { get; set; }
    public required string Format { get; set; }
    public int Width { get; set; }
    public int Height { get; set; }

    /// <summary>The clinic's patient identifier, if given. Never logged.</summary>
    public string? PatientId { get; set; }

    /// <summary><c>left</c> or <c>right</c>, if given.</summary>
    public string? Eye { get; set; }

    /// <summary>The uploading doctor's own grade, if given, for later comparison.</summary>
    public int? DoctorGrade { get; set; }

    /// <summary>The e-mail of the user who uploaded it; null only for cases stored before uploads recorded it.</summary>
    public string? UploadedBy { get; set; }

    /// <summary>The image-quality gate's verdict (Good, Usable, Ungradable); null for cases screened before the gate existed.</summary>
    public string? QualityVerdict { get; set; }

    /// <summary>The gate's reasons, one per line.</summary>
    public string? QualityReasons { get; set; }

    /// <summary>The doctor graded an image the gate called ungradable.</summary>
    public bool QualityOverridden { get; set; }

    public List<Prediction> Predictions { get; set; } = [];
}

/// <summary>A model's grading of a case, stored as shown so that reopening never recomputes it.</summary>
public sealed class Prediction
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public Guid CaseId { get; set; }
    public Case? Case { get; set; }
    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>Which model graded it: folder name and label, e.g. <c>screening-resnet18 (demonstration model, ...)</c>.</summary>
    public required string ModelVersion { get; set; }

    public float P0 { get; set; }
    public float P1 { get; set; }
    public float P2 { get; set; }
    public float P3 { get; set; }
    public float P4 { get; set; }

    public int Grade { get; set; }
    public bool Referable { get; set; }
    public float ReferableProbability { get; set; }
    public required string ReferableRule { get; set; }

    /// <summary>The threshold on P(referable) this grading was decided with; it stays when the model's operating point moves. Null: the argmax-grade rule.</summary>
    public double? ReferralThreshold { get; set; }

    public required string CamLayer { get; set; }

    /// <summary>PNG of the picture the model was given (crop and colour recipe at its input size); null on rows made before it was kept.</summary>
    public string? ModelViewHash { get; set; }

    /// <summary>How that picture was made from the photograph, in one sentence.</summary>
    public string? ModelViewNote { get; set; }

    /// <summary>The overlays are drawn on the model's view (a cropping model) rather than on the original photograph.</summary>
    public bool HeatmapOnModelView { get; set; }

    /// <summary>SHA-256 of the overlay PNG in the image store.</summary>
    public required string OverlayHash { get; set; }

    public double DurationMs { get; set; }

    public float[] Probabilities => [P0, P1, P2, P3, P4];
}

/// <summary>
/// A per-user API token for integrators. Only a SHA-256 of the secret is stored; the secret is shown once when issued.
/// </summary>
public sealed class ApiToken
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public required string UserId { get; set; }
    public DrWebUser? User { get; set; }
    public required string Name { get; set; }
    public required string SecretHash { get; set; }
    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? RevokedUtc { get; set; }
    public DateTimeOffset? LastUsedUtc { get; set; }
}

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

/// <summary>A labelled image folder on the server that training runs can use.</summary>
public sealed class TrainingDataset
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public required string Name { get; set; }

    /// <summary>Absolute path of the folder (inside a configured dataset root, or the data folder for uploads).</summary>
    public required string Folder { get; set; }
    public bool Uploaded { get; set; }
    public required string Layout { get; set; }
    public int Images { get; set; }

    /// <summary>Images per grade 0-4, e.g. <c>120/40/60/12/10</c>.</summary>
    public required string GradeCounts { get; set; }
    public required string Fingerprint { get; set; }

    /// <summary>The validation report from when it was registered.</summary>
    public required string Report { get; set; }
    public DateTimeOffset RegisteredUtc { get; set; } = DateTimeOffset.UtcNow;
}

public enum TrainingRunStatus { Queued, Running, Succeeded, Failed, Cancelled }

/// <summary>
/// One training run, from the admin's request to a registered model. Its progress lives here (and in its step and
/// epoch rows), never only in memory, so that a reload, another admin or a restarted server sees the same state.
/// </summary>
public sealed class TrainingRun
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public required string Name { get; set; }
    public Guid DatasetId { get; set; }
    public TrainingDataset? Dataset { get; set; }
    public required string Architecture { get; set; }
    public Guid? BaseCheckpointId { get; set; }

    /// <summary>Everything that defines the run (<see cref="Services.RunSettings"/> as JSON).</summary>
    public required string SettingsJson { get; set; }

    public TrainingRunStatus Status { get; set; } = TrainingRunStatus.Queued;
    public string Phase { get; set; } = "queued";
    public string? Device { get; set; }
    public string? HangfireJobId { get; set; }
    public Guid? ScheduleId { get; set; }
    public string? RequestedBy { get; set; }

    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? ScheduledForUtc { get; set; }
    public DateTimeOffset? StartedUtc { get; set; }
    public DateTimeOffset? FinishedUtc { get; set; }

    /// <summary>Written every step while running; a run whose heartbeat is fresh is being trained by a live process.</summary>
    public DateTimeOffset? HeartbeatUtc { get; set; }

    public int Epoch { get; set; }
    public int Epochs { get; set; }
    public int Step { get; set; }
    public int StepsPerEpoch { get; set; }
    public double? EtaSeconds { get; set; }
    public int Attempts { get; set; }

    /// <summary>The epoch a restarted attempt continued after, when it resumed from a checkpoint.</summary>
    public int? ResumedAfterEpoch { get; set; }

    public bool CancelRequested { get; set; }

    /// <summary>A sentence for the page; the full detail is in the log under <see cref="ErrorReference"/>.</summary>
    public string? Error { get; set; }
    public string? ErrorReference { get; set; }

    public double? BestKappa { get; set; }
    public double? BestReferableAuc { get; set; }
    public int? BestEpoch { get; set; }
    public double TrainingSeconds { get; set; }
    public Guid? ModelVersionId { get; set; }

    public List<TrainingStepLoss> Steps { get; set; } = [];
    public List<TrainingEpochMetrics> EpochMetrics { get; set; } = [];
}

/// <summary>The training loss of one optimiser step, for the live loss curve.</summary>
public sealed class TrainingStepLoss
{
    public long Id { get; set; }
    public Guid RunId { get; set; }
    public int Epoch { get; set; }
    public int Step { get; set; }

    /// <summary>Steps since the start of the run, the curve's x axis.</summary>
    public int GlobalStep { get; set; }
    public double Loss { get; set; }
}

/// <summary>Validation figures after one epoch.</summary>
public sealed class TrainingEpochMetrics
{
    public long Id { get; set; }
    public Guid RunId { get; set; }
    public int Epoch { get; set; }
    public double TrainLoss { get; set; }
    public double ValidationLoss { get; set; }
    public double Kappa { get; set; }
    public double? ReferableAuc { get; set; }
    public double Sensitivity { get; set; }
    public double Specificity { get; set; }
    public double Accuracy { get; set; }
    public double Seconds { get; set; }
    public bool Improved { get; set; }
}

/// <summary>A recurring retraining: a cron expression and the settings each run gets.</summary>
public sealed class TrainingSchedule
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public required string Name { get; set; }
    public required string Cron { get; set; }
    public required string SettingsJson { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;

    public string RecurringJobId => $"training-schedule-{Id:N}";
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

/// <summary>One evaluated image: what it is, what the model said, and where it looked for each answer.</summary>
public sealed class EvaluationCase
{
    public long Id { get; set; }
    public Guid EvaluationId { get; set; }
    public ModelEvaluation? Evaluation { get; set; }

    /// <summary>The image's id in its dataset, e.g. <c>10007_left</c>.</summary>
    public required string ImageId { get; set; }

    /// <summary>SHA-256 of the photograph in the image store (copied there, so the gallery outlives the dataset).</summary>
    public required string ImageHash { get; set; }
    public string? PatientId { get; set; }
    public string? Eye { get; set; }
    public int TrueGrade { get; set; }
    public int PredictedGrade { get; set; }
    public float P0 { get; set; }
    public float P1 { get; set; }
    public float P2 { get; set; }
    public float P3 { get; set; }
    public float P4 { get; set; }

    /// <summary>Whether the model referred this eye at its operating point when the evaluation was made; null on rows made before operating points (then the most likely grade decides).</summary>
    public bool? Referred { get; set; }

    /// <summary>Overlay PNGs in the image store: Grad-CAM of the predicted grade and of the true grade.</summary>
    public required string HeatmapPredictedHash { get; set; }
    public required string HeatmapTrueHash { get; set; }
    public required string CamLayer { get; set; }

    /// <summary>PNG of the picture the model was given (crop and colour recipe at its input size); null on rows made before it was kept.</summary>
    public string? ModelViewHash { get; set; }

    /// <summary>How that picture was made from the photograph, in one sentence.</summary>
    public string? ModelViewNote { get; set; }

    /// <summary>The overlays are drawn on the model's view (a cropping model) rather than on the original photograph.</summary>
    public bool HeatmapOnModelView { get; set; }

    /// <summary>The image-quality gate's verdict on the photograph (Good, Usable, Ungradable); null on older rows.</summary>
    public string? QualityVerdict { get; set; }

    /// <summary>The gate's reasons, one per line.</summary>
    public string? QualityReasons { get; set; }

    public float[] Probabilities => [P0, P1, P2, P3, P4];
    public bool Correct => TrueGrade == PredictedGrade;
}

/// <summary>An educator's note on a gallery case.</summary>
public sealed class CaseNote
{
    public long Id { get; set; }
    public long EvaluationCaseId { get; set; }
    public required string Author { get; set; }
    public required string Text { get; set; }
    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;
}

/// <summary>An ordered set of gallery cases with a title and notes, for teaching and quizzes.</summary>
public sealed class Lesson
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public required string Title { get; set; }
    public string? Notes { get; set; }
    public string? Owner { get; set; }
    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;
    public List<LessonItem> Items { get; set; } = [];
}

/// <summary>One case in a lesson, in its place, with what the class answered when it was presented.</summary>
public sealed class LessonItem
{
    public long Id { get; set; }
    public Guid LessonId { get; set; }
    public long EvaluationCaseId { get; set; }
    public EvaluationCase? Case { get; set; }
    public int Position { get; set; }
    public string? Notes { get; set; }

    /// <summary>The grade the class guessed in the last presentation, if the educator recorded it.</summary>
    public int? ClassAnswer { get; set; }
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

/// <summary>
/// One security-relevant event: who did what to which thing, from where. Rows are only ever added; the admin's audit
/// page reads them.
/// </summary>
public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTimeOffset TimeUtc { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>One of <see cref="Services.AuditAction"/>'s names.</summary>
    public required string Action { get; set; }

    /// <summary>The signed-in user's e-mail, the e-mail tried at a failed sign-in, or <c>system</c>.</summary>
    public required string Actor { get; set; }

    /// <summary>What was acted on: a user's e-mail, a case id, a model version, a lesson, a token's name.</summary>
    public string? Subject { get; set; }

    public string? Detail { get; set; }

    /// <summary>The client's address, where the event came from a request.</summary>
    public string? Address { get; set; }
}

/// <summary>
/// The first answer to an API request sent with an <c>Idempotency-Key</c>, so that a client's retry of the same request
/// gets that answer again instead of a second case.
/// </summary>
public sealed class IdempotentRequest
{
    public long Id { get; set; }
    public required string UserName { get; set; }
    public required string Key { get; set; }

    /// <summary>SHA-256 of the request's files and fields: the same key with a different request is refused.</summary>
    public required string RequestHash { get; set; }

    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>Null while the first request is still being processed.</summary>
    public int? StatusCode { get; set; }

    public string? ResponseJson { get; set; }
}
