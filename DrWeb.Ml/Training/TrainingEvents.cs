using DrWeb.Ml.Evaluation;

namespace DrWeb.Ml.Training;

/// <summary>Something that happened during training, for progress bars, logs and the database.</summary>
public abstract record TrainingEvent;

public sealed record PhaseChanged(string Phase) : TrainingEvent;

public sealed record StepCompleted(int Epoch, int Step, int StepsPerEpoch, double Loss) : TrainingEvent;

public sealed record EpochCompleted(
    int Epoch, int Epochs, double TrainLoss, double ValidationLoss, EvaluationReport Validation,
    TimeSpan Elapsed, TimeSpan EstimatedRemaining, bool Improved) : TrainingEvent;

/// <summary>One line of a run's history, kept in checkpoints and manifests.</summary>
public sealed record EpochSummary(int Epoch, double TrainLoss, double ValidationLoss, double Kappa, double ReferableAuc,
    double Sensitivity, double Specificity, double Accuracy, double Seconds);
