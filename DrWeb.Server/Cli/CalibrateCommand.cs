using System.CommandLine;
using System.Globalization;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Manifest;
using DrWeb.Ml.Torch;

namespace DrWeb.Server.Cli;

/// <summary>
/// <c>calibrate</c>: fits a model's temperature on its validation predictions, chooses its referral threshold for a
/// target, and, given the training data, measures the held-out test split at that point.
/// </summary>
internal static class CalibrateCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model folder written by train (reads validation/predictions.csv).", Required = true };
        var target = new Option<string>("--operating-point")
        {
            Description = "sensitivity:0.87 (the default, IDx-DR's pivotal figure), specificity:0.913 (the study's) or threshold:<P(referable)>.",
            DefaultValueFactory = _ => "sensitivity:0.87",
        };
        var data = new Option<DirectoryInfo[]>("--data") { Description = "The training data folders; with them the held-out test split is measured again." };
        var flip = new Option<bool>("--tta-flip")
        {
            Description = "Make the model average each view with its mirror image: its validation images (from --data) are predicted again that way, and the temperature and threshold fitted on them.",
        };
        var threads = DrWebCommandLine.ThreadsOption();
        var command = new Command("calibrate", "Fit temperature scaling and choose the referral threshold of a trained model.") { model, target, data, flip, threads };
        command.SetAction((parse, token) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                string folder = parse.GetValue(model)!.FullName;
                var manifest = ModelDirectory.ReadManifest(folder);
                var (kind, value) = ModelCalibrator.ParseTarget(parse.GetValue(target)!);
                var folders = parse.GetValue(data) ?? [];
                var images = folders.SelectMany(f => DatasetReader.Read(f.FullName).Images).ToList();
                var validationIds = manifest.ValidationIds.ToHashSet(StringComparer.Ordinal);
                if (parse.GetValue(flip))
                {
                    var validationImages = images.Where(i => validationIds.Contains(i.Id)).ToList();
                    if (validationImages.Count != validationIds.Count)
                        throw new ArgumentException($"--tta-flip predicts the {validationIds.Count} validation images again; {validationImages.Count} of them are in the --data folders. Name the folders the model was trained on.");
                    TorchRuntime.Initialize(DrWebCommandLine.TorchOptionsFromSettings(parse.GetValue(threads), null));
                    var (classifier, _) = ModelDirectory.Load(folder);
                    using (classifier)
                    {
                        var flipped = ModelEvaluator.Predict(classifier, manifest.Preprocessing, validationImages, token: token, flipAverage: true);
                        ModelEvaluator.Write(Path.Combine(folder, "validation"), EvaluationReport.From(flipped), flipped);
                    }
                    manifest = manifest with { TestTimeFlip = true };
                    output.WriteLine($"validation images predicted again with flip averaging ({validationImages.Count})");
                }
                var validation = ModelEvaluator.ReadPredictions(Path.Combine(folder, "validation", "predictions.csv"));
                manifest = ModelCalibrator.Calibrate(manifest, validation, kind, value, "calibrate (command line)",
                    images.Count > 0 ? images.Where(i => validationIds.Contains(i.Id)).ToList() : null);
                PrintCalibration(output, manifest);
                if (images.Count > 0 && manifest.TestIds.Count > 0)
                {
                    if (!TorchRuntime.IsInitialized) TorchRuntime.Initialize(DrWebCommandLine.TorchOptionsFromSettings(parse.GetValue(threads), null));
                    manifest = MeasureTest(folder, manifest, images, output, token);
                }
                ModelDirectory.SaveManifest(folder, manifest);
                output.WriteLine($"wrote {Path.Combine(folder, ModelManifest.FileName)}");
                return Task.FromResult(0);
            }
            catch (DatasetException e)
            {
                error.WriteLine($"error: the dataset cannot be used.{Environment.NewLine}{e.Message}");
                return Task.FromResult(2);
            }
            catch (Exception e) when (e is CheckpointException or ArgumentException or InvalidDataException or InvalidOperationException
                                          or FileNotFoundException or TorchRuntime.TorchUnavailableException)
            {
                error.WriteLine($"error: {e.Message}");
                return Task.FromResult(2);
            }
        });
        return command;
    }

    public static void PrintCalibration(TextWriter output, ModelManifest manifest)
    {
        var c = manifest.Calibration!;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"temperature {c.Temperature:0.000} on {c.Images} validation images: NLL {c.NllBefore:0.000} -> {c.NllAfter:0.000}, " +
            $"ECE (top grade) {c.ReliabilityBefore.ExpectedCalibrationError:0.000} -> {c.ReliabilityAfter.ExpectedCalibrationError:0.000}, " +
            $"ECE (P(referable)) {c.ReferableReliabilityBefore.ExpectedCalibrationError:0.000} -> {c.ReferableReliabilityAfter.ExpectedCalibrationError:0.000}"));
        if (manifest.OperatingPoint is not { } op)
        {
            output.WriteLine("no operating point: the validation images do not hold both referable and non-referable eyes; the model refers by its most likely grade.");
            return;
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"operating point: refer at P(referable) >= {op.Threshold:0.000}, {op.Basis}: validation sensitivity {op.Sensitivity}, specificity {op.Specificity}"));
    }

    /// <summary>The held-out test split at the model's temperature and threshold, overall and per source.</summary>
    public static ModelManifest MeasureTest(string folder, ModelManifest manifest, IReadOnlyList<LabelledImage> images, TextWriter output,
        CancellationToken token)
    {
        var ids = manifest.TestIds.ToHashSet(StringComparer.Ordinal);
        var test = images.Where(i => ids.Contains(i.Id)).ToList();
        if (test.Count != ids.Count)
            throw new ArgumentException($"The model's test split has {ids.Count} images; {test.Count} of them are in the folders given. Name the folders it was trained on.");
        var (classifier, _) = ModelDirectory.Load(folder);
        using var _ = classifier;
        var predictions = ModelEvaluator.Predict(classifier, manifest.Preprocessing, test, token: token,
            temperature: manifest.Calibration?.Temperature ?? 1.0, flipAverage: manifest.TestTimeFlip);
        double? threshold = manifest.OperatingPoint?.Threshold;
        var report = EvaluationReport.From(predictions, threshold: threshold);
        var bySource = SourceReport.BySource(test, predictions, threshold: threshold);
        ModelEvaluator.Write(Path.Combine(folder, "test"), report, predictions);
        EvaluateCommand.PrintSummary(output, report, "held-out test split");
        foreach (var s in bySource) EvaluateCommand.PrintSummary(output, s.Report, $"test, {s.Source}");
        return manifest with { Test = report, TestBySource = bySource };
    }
}
