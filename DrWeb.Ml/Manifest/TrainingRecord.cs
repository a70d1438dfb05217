using DrWeb.Ml.Data;

namespace DrWeb.Ml.Manifest;

/// <summary>The outcome of a run: the model holds the best epoch's weights.</summary>
public sealed record TrainingResult(
    IReadOnlyList<EpochSummary> History,
    int BestEpoch,
    EvaluationReport BestValidation,
    IReadOnlyList<EvaluatedImage> BestValidationImages,
    DataSplit Split,
    string Device,
    TimeSpan Duration,
    bool StoppedEarly);

/// <summary>One line of a run's history, kept in checkpoints and manifests.</summary>
public sealed record EpochSummary(int Epoch, double TrainLoss, double ValidationLoss, double Kappa, double ReferableAuc,
    double Sensitivity, double Specificity, double Accuracy, double Seconds);
