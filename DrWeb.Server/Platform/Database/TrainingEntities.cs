namespace DrWeb.Server.Platform.Database;

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

    /// <summary>The node (<c>DrWeb:NodeName</c>) whose worker ran the latest attempt.</summary>
    public string? Node { get; set; }

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
