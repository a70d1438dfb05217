using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Manifest;

namespace DrWeb.Ml.Training;

/// <summary>What a model folder records about a model that was just trained here.</summary>
public static class TrainedModelManifest
{
    /// <summary>The manifest of a model that <paramref name="result"/> just trained (the model holds the best epoch's weights).</summary>
    public static ModelManifest For(FundusClassifier model, Preprocessing preprocessing, TrainingOptions options,
        DatasetUnion dataset, TrainingResult result, string? bundledBase, string? label)
    {
        var policy = model.TrainablePolicy;
        return new ModelManifest
        {
            Architecture = model.Architecture, Head = model.Head, TrainablePolicy = policy.Name, TrainablePrefixes = policy.Prefixes,
            Preprocessing = preprocessing, BaseWeights = bundledBase, Label = label, Training = options,
            DataFolder = dataset.Describe(), DataFingerprint = dataset.Fingerprint(), DataFolders = dataset.Fingerprints,
            NearDuplicates = dataset.NearDuplicates.Summary(), TrainImages = result.Split.Train.Count,
            ValidationImages = result.Split.Validation.Count, ValidationIds = result.Split.Validation.Select(i => i.Id).ToList(),
            Validation = result.BestValidation,
            ValidationBySource = SourceReport.BySource(result.Split.Validation, result.BestValidationImages, result.BestValidation.Referable.TargetSpecificity),
            History = result.History, BestEpoch = result.BestEpoch, Device = result.Device,
            TrainingSeconds = result.Duration.TotalSeconds,
        };
    }
}
