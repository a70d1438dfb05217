using System.CommandLine;
using System.Globalization;
using DrWeb.Ml.Data;
using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Inference;
using DrWeb.Ml.Models;
using DrWeb.Ml.Torch;

namespace DrWeb.Server.Cli;

/// <summary><c>evaluate</c>: a model's figures on a labelled dataset, with the per-image predictions.</summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var data = new Option<DirectoryInfo>("--data") { Description = "Labelled dataset folder.", Required = true };
        var model = new Option<DirectoryInfo>("--model") { Description = "DrWeb model folder.", Required = true };
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "Where to write metrics.json and predictions.csv (default: <model>/evaluation-<dataset>)." };
        var split = new Option<string>("--split") { Description = "all, or validation (only the model's own validation images).", DefaultValueFactory = _ => "all" };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 8 };
        var specificity = new Option<double>("--target-specificity") { Description = "Report sensitivity at this specificity.", DefaultValueFactory = _ => 0.913 };
        var skipBad = new Option<bool>("--skip-bad-rows") { Description = "Drop dataset rows with problems instead of stopping." };
        var threads = DrWebCommandLine.ThreadsOption();
        var command = new Command("evaluate", "Evaluate a model on a labelled dataset.") { data, model, outDir, split, batch, specificity, skipBad, threads };
        command.SetAction((parse, token) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                TorchRuntime.Initialize(DrWebCommandLine.TorchOptionsFromSettings(parse.GetValue(threads), null));
                var dataset = DatasetReader.Read(parse.GetValue(data)!.FullName, new DatasetReadOptions { SkipBadRows = parse.GetValue(skipBad) });
                var (classifier, manifest) = ModelDirectory.Load(parse.GetValue(model)!.FullName);
                using var _ = classifier;
                var images = dataset.Images;
                if (parse.GetValue(split) == "validation")
                {
                    var ids = manifest.ValidationIds.ToHashSet();
                    images = images.Where(i => ids.Contains(i.Id)).ToList();
                    if (images.Count != ids.Count)
                        throw new ArgumentException($"The model's validation split has {ids.Count} images, {images.Count} of them are in {dataset.Folder}.");
                }
                else if (parse.GetValue(split) != "all")
                {
                    throw new ArgumentException("--split is all or validation.");
                }
                output.WriteLine($"{manifest.Architecture} ({manifest.Head} head){(manifest.Label is null ? "" : $" [{manifest.Label}]")} on {images.Count} image(s) of {dataset.Folder}");
                var predictions = ModelEvaluator.Predict(classifier, manifest.Preprocessing, images, parse.GetValue(batch), token: token);
                var report = EvaluationReport.From(predictions, parse.GetValue(specificity));
                string folder = parse.GetValue(outDir)?.FullName
                                ?? Path.Combine(parse.GetValue(model)!.FullName, "evaluation-" + Path.GetFileName(dataset.Folder.TrimEnd('/')));
                var (metrics, csv) = ModelEvaluator.Write(folder, report, predictions);
                PrintReport(output, report, parse.GetValue(split)!);
                output.WriteLine($"wrote {metrics} and {csv}");
                return Task.FromResult(0);
            }
            catch (DatasetException e)
            {
                error.WriteLine($"error: the dataset cannot be used.{Environment.NewLine}{e.Message}");
                return Task.FromResult(2);
            }
            catch (Exception e) when (e is CheckpointException or ArgumentException or InvalidDataException or TorchRuntime.TorchUnavailableException)
            {
                error.WriteLine($"error: {e.Message}");
                return Task.FromResult(2);
            }
        });
        return command;
    }

    /// <summary>One line: the referable figures and kappa.</summary>
    public static void PrintSummary(TextWriter output, EvaluationReport r, string title)
    {
        string F(double v) => double.IsNaN(v) ? "n/a" : v.ToString("0.000", CultureInfo.InvariantCulture);
        var rf = r.Referable;
        output.WriteLine($"== {title}: {r.Images} images, referable AUC {F(rf.RocAuc)}, sensitivity {rf.Sensitivity}, specificity {rf.Specificity}, " +
                         $"sensitivity at specificity >= {F(rf.TargetSpecificity)} {rf.SensitivityAtTarget}, kappa {F(r.QuadraticWeightedKappa)}");
    }

    public static void PrintReport(TextWriter output, EvaluationReport r, string title)
    {
        string F(double v) => double.IsNaN(v) ? "n/a" : v.ToString("0.000", CultureInfo.InvariantCulture);
        output.WriteLine($"== {title}: {r.Images} images");
        output.WriteLine($"confusion matrix (rows true grade 0-4, columns predicted 0-4):");
        for (int t = 0; t < r.ConfusionMatrix.Length; t++)
            output.WriteLine($"  {t} | " + string.Join(" ", r.ConfusionMatrix[t].Select(c => c.ToString().PadLeft(5))));
        output.WriteLine($"5-class accuracy {r.Accuracy}; quadratic weighted kappa {F(r.QuadraticWeightedKappa)}");
        foreach (var g in r.Grades)
            output.WriteLine($"  grade {g.Grade} {g.Name,-17} recall {g.Recall,-18} precision {g.Precision,-18} support {g.Support}");
        var rf = r.Referable;
        output.WriteLine($"referable (grade >= 2): sensitivity {rf.Sensitivity}, specificity {rf.Specificity}, accuracy {rf.Accuracy}, ROC AUC {F(rf.RocAuc)}");
        output.WriteLine($"  TP {rf.TruePositives}, FN {rf.FalseNegatives}, TN {rf.TrueNegatives}, FP {rf.FalsePositives}");
        output.WriteLine($"  at specificity >= {F(rf.TargetSpecificity)}: sensitivity {rf.SensitivityAtTarget}, specificity {rf.SpecificityAtTarget}, threshold P(referable) >= {F(rf.ThresholdAtTarget)}");
    }
}
