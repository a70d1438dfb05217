using DrWeb.Ml.Manifest;

namespace DrWeb.Ml.Training;

/// <summary>Something that happened during training, for progress bars, logs and the database.</summary>
public abstract record TrainingEvent;

public sealed record PhaseChanged(string Phase) : TrainingEvent;

public sealed record StepCompleted(int Epoch, int Step, int StepsPerEpoch, double Loss) : TrainingEvent;

public sealed record EpochCompleted(
    int Epoch, int Epochs, double TrainLoss, double ValidationLoss, EvaluationReport Validation,
    TimeSpan Elapsed, TimeSpan EstimatedRemaining, bool Improved) : TrainingEvent;
