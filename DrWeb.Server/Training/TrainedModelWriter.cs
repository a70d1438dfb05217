using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Inference;
using DrWeb.Ml.Manifest;
using DrWeb.Ml.Training;

namespace DrWeb.Server.Training;

/// <summary>A trained model as written: its manifest, its referral policy, and its validation images and figures under that policy.</summary>
public sealed record WrittenModel(ModelManifest Manifest, ReferralPolicy Referral, IReadOnlyList<EvaluatedImage> ValidationImages,
    EvaluationReport ValidationReport);

/// <summary>
/// Turns a finished training into a model folder: the manifest, calibration (temperature, and the referral threshold
/// at DrWeb's default sensitivity) when the validation split has both referable and non-referable eyes, the weights,
/// and the validation figures as measured during training.
/// </summary>
public static class TrainedModelWriter
{
    public static WrittenModel Write(string folder, FundusClassifier model, Preprocessing preprocessing, TrainingOptions options,
        DatasetUnion dataset, TrainingResult result, string? bundledBase, string label, string calibratedBy)
    {
        var manifest = TrainedModelManifest.For(model, preprocessing, options, dataset, result, bundledBase, label);
        var referral = ReferralPolicy.ArgmaxGrade;
        var images = result.BestValidationImages;
        var report = result.BestValidation;
        if (images.Any(i => i.TrueGrade >= DrGrade.ReferableFrom) && images.Any(i => i.TrueGrade < DrGrade.ReferableFrom))
        {
            manifest = ModelCalibrator.Calibrate(manifest, images, OperatingTarget.Sensitivity, OperatingPoint.DefaultSensitivity, calibratedBy);
            referral = ReferralPolicy.From(manifest);
            images = images.Select(i => TemperatureScaling.Apply(i, referral.Temperature)).ToList();
            report = EvaluationReport.From(images, threshold: manifest.OperatingPoint!.Threshold);
        }
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        ModelDirectory.Save(folder, model, manifest, trainedOnly: bundledBase is not null);
        ModelEvaluator.Write(Path.Combine(folder, "validation"), result.BestValidation, result.BestValidationImages);
        return new WrittenModel(manifest, referral, images, report);
    }
}
