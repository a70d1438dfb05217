using System.Globalization;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Manifest;

namespace DrWeb.Ml.Evaluation;

/// <summary>
/// Calibrates a trained model on its validation predictions: fits the temperature, then chooses the referral threshold
/// for a target, and records both, with the validation scores that any later operating point is chosen on.
/// </summary>
public static class ModelCalibrator
{
    /// <param name="validation">The model's validation predictions, before temperature scaling.</param>
    /// <param name="validationImages">The validation images with their sources, to report the calibrated figures per source; null keeps the manifest's per-source figures.</param>
    /// <returns>The manifest with the calibration, the operating point and the validation figures at that point.</returns>
    public static ModelManifest Calibrate(ModelManifest manifest, IReadOnlyList<EvaluatedImage> validation, OperatingTarget target,
        double value, string chosenBy, IReadOnlyList<Data.LabelledImage>? validationImages = null)
    {
        var calibration = TemperatureScaling.Calibrate(validation);
        var scaled = validation.Select(i => TemperatureScaling.Apply(i, calibration.Temperature)).ToList();
        var scores = scaled
            .Select(i => new ValidationScore(i.TrueGrade >= DrGrade.ReferableFrom, Math.Round(i.Probabilities.Skip(DrGrade.ReferableFrom).Sum(), 6)))
            .ToList();
        double specificity = manifest.Validation?.Referable.TargetSpecificity ?? OperatingPoint.PaperSpecificity;
        if (!scores.Any(s => s.Referable) || scores.All(s => s.Referable))
        {
            // Without both classes no threshold can be chosen: keep the temperature, refer by the most likely grade.
            return manifest with
            {
                Calibration = calibration, ValidationScores = scores, OperatingPoint = null,
                Validation = EvaluationReport.From(scaled, specificity),
            };
        }
        var point = OperatingPoint.For(Cases(scores), target, value);
                return manifest with
        {
            Calibration = calibration, ValidationScores = scores, OperatingPoint = point,
            Validation = EvaluationReport.From(scaled, specificity, point.Threshold),
            ValidationBySource = validationImages is null ? manifest.ValidationBySource
                : SourceReport.BySource(validationImages, scaled, specificity, point.Threshold),
            OperatingPointHistory = [.. manifest.OperatingPointHistory, new OperatingPointChange(point, chosenBy, DateTimeOffset.UtcNow)],
        };
    }

    /// <summary>Moves a calibrated model's operating point, on the validation scores recorded at calibration.</summary>
    public static ModelManifest MoveOperatingPoint(ModelManifest manifest, OperatingTarget target, double value, string chosenBy)
    {
        if (manifest.ValidationScores.Count == 0)
            throw new InvalidOperationException(
                "This model has no recorded validation scores to choose an operating point on. Calibrate it first: " +
                "DrWeb.Server calibrate --model <folder> (it reads the folder's validation/predictions.csv).");
        var point = OperatingPoint.For(Cases(manifest.ValidationScores), target, value);
        return manifest with
        {
            OperatingPoint = point,
            OperatingPointHistory = [.. manifest.OperatingPointHistory, new OperatingPointChange(point, chosenBy, DateTimeOffset.UtcNow)],
        };
    }

    public static IReadOnlyList<ReferableCase> Cases(IEnumerable<ValidationScore> scores) =>
        scores.Select(s => new ReferableCase(s.Referable, s.Probability, false)).ToList();

    /// <summary>Parses "sensitivity:0.87", "specificity:0.913" or "threshold:0.3".</summary>
    public static (OperatingTarget Target, double Value) ParseTarget(string text)
    {
        var parts = text.Split(':', 2, StringSplitOptions.TrimEntries);
        if (parts.Length == 2 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
        {
            switch (parts[0].ToLowerInvariant())
            {
                case "sensitivity" when v is > 0 and <= 1: return (OperatingTarget.Sensitivity, v);
                case "specificity" when v is > 0 and <= 1: return (OperatingTarget.Specificity, v);
                case "threshold" when v is >= 0 and <= 1: return (OperatingTarget.Threshold, v);
            }
        }
        throw new ArgumentException($"Unknown operating-point target '{text}'. Use sensitivity:0.87, specificity:0.913 or threshold:0.30 (values in 0-1).");
    }
}
