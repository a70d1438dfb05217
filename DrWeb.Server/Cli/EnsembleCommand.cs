using System.CommandLine;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Manifest;
using DrWeb.Ml.Torch;

namespace DrWeb.Server.Cli;

/// <summary>
/// <c>ensemble</c>: joins models trained on one split with different seeds into one model folder, predicts the shared
/// validation images with it, fits its temperature and operating point there, and measures the shared test split.
/// </summary>
internal static class EnsembleCommand
{
    public static Command Create()
    {
        var members = new Option<DirectoryInfo[]>("--member") { Description = "A model folder written by train; give two or more, trained with the same --split-seed.", Required = true };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Folder for the ensemble (model.json + one weights file).", Required = true };
        var data = new Option<DirectoryInfo[]>("--data") { Description = "The folders the members were trained on (their validation and test images are read from them).", Required = true };
        var target = new Option<string>("--operating-point") { Description = "sensitivity:0.87 (default), specificity:0.913 or threshold:<P(referable)>.", DefaultValueFactory = _ => "sensitivity:0.87" };
        var flip = new Option<bool>("--tta-flip") { Description = "Also average each view with its mirror image." };
        var label = new Option<string?>("--label") { Description = "Label stored with the model (default: the first member's)." };
        var threads = DrWebCommandLine.ThreadsOption();
        var command = new Command("ensemble", "Join trained models into one ensemble model, calibrated on their shared validation split.")
        {
            members, outDir, data, target, flip, label, threads,
        };
        command.SetAction((parse, token) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var (kind, value) = ModelCalibrator.ParseTarget(parse.GetValue(target)!);
                var memberFolders = parse.GetValue(members)!.Select(d => d.FullName).ToList();
                string folder = parse.GetValue(outDir)!.FullName;
                if (memberFolders.Any(m => Path.GetFullPath(m).TrimEnd('/') == folder.TrimEnd('/')))
                    throw new ArgumentException("--out must be a new folder, not one of the members.");
                var images = parse.GetValue(data)!.SelectMany(f => DatasetReader.Read(f.FullName).Images).ToList();
                TorchRuntime.Initialize(DrWebCommandLine.TorchOptionsFromSettings(parse.GetValue(threads), null));
                Run(memberFolders, folder, images, kind, value, parse.GetValue(flip), parse.GetValue(label), output, token);
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

    public static void Run(IReadOnlyList<string> memberFolders, string folder, IReadOnlyList<LabelledImage> images, OperatingTarget kind, double value,
        bool flip, string? label, TextWriter output, CancellationToken token)
    {
        var (ensemble, manifest) = EnsembleJoin.Join(memberFolders, label);
        using var _ = ensemble;
        var validationIds = manifest.ValidationIds.ToHashSet(StringComparer.Ordinal);
        var validation = images.Where(i => validationIds.Contains(i.Id)).ToList();
        if (validation.Count != validationIds.Count)
            throw new ArgumentException($"The members' validation split has {validationIds.Count} images; {validation.Count} of them are in the --data folders. Name the folders they were trained on.");
        output.WriteLine($"{manifest.EnsembleMembers.Count} members ({string.Join(", ", manifest.EnsembleMembers.Select(m => $"{m.Name} seed {m.Seed}"))}); " +
                         $"predicting {validation.Count} validation images{(flip ? " with flip averaging" : "")}");
        var predictions = ModelEvaluator.Predict(ensemble, manifest.Preprocessing, validation, token: token, flipAverage: flip);
        var report = EvaluationReport.From(predictions);
        ModelEvaluator.Write(Path.Combine(folder, "validation"), report, predictions);
        manifest = manifest with { TestTimeFlip = flip, Validation = report, ValidationImages = validation.Count };
        manifest = ModelCalibrator.Calibrate(manifest, predictions, kind, value, "ensemble (command line)", validation);
        CalibrateCommand.PrintCalibration(output, manifest);
        EvaluateCommand.PrintReport(output, manifest.Validation!, "validation split, at the operating point");
        foreach (var source in manifest.ValidationBySource)
            EvaluateCommand.PrintSummary(output, source.Report, $"validation, {source.Source}");
        bool trainedOnly = manifest.BaseWeights is not null;
        ModelDirectory.Save(folder, ensemble, manifest, trainedOnly, halfPrecision: manifest.WeightsPrecision == "fp16", int8Weights: manifest.WeightsPrecision == "int8");
        manifest = ModelDirectory.ReadManifest(folder);
        if (manifest.TestIds.Count > 0)
            manifest = CalibrateCommand.MeasureTest(folder, manifest, images, output, token);
        ModelDirectory.SaveManifest(folder, manifest);
        output.WriteLine($"ensemble written to {folder}");
    }
}
