using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Inference;
using DrWeb.Ml.Manifest;
using DrWeb.Ml.Torch;

namespace DrWeb.Server.Cli;

/// <summary><c>evaluate</c>: a model's figures on a labelled dataset, with the per-image predictions.</summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var data = new Option<DirectoryInfo[]>("--data") { Description = "Labelled dataset folder; repeat it to evaluate on several, each reported on its own.", Required = true };
        var model = new Option<DirectoryInfo>("--model") { Description = "DrWeb model folder.", Required = true };
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "Where to write the results (default: <model>/evaluation-<dataset>; with several --data, one subfolder each)." };
        var split = new Option<string>("--split") { Description = "all, validation (the model's validation images) or test (its held-out test images).", DefaultValueFactory = _ => "all" };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 8 };
        var specificity = new Option<double>("--target-specificity") { Description = "Report sensitivity at this specificity.", DefaultValueFactory = _ => OperatingPoint.PaperSpecificity };
        var resamples = new Option<int>("--bootstrap") { Description = "Bootstrap resamples (by patient) for the 95% intervals; 0 = none.", DefaultValueFactory = _ => 1000 };
        var flip = new Option<bool>("--tta-flip") { Description = "Average each view with its mirror image even if the model does not (it does when its manifest says TestTimeFlip)." };
        var inputSize = new Option<int?>("--input-size")
        {
            Description = "Feed the model this many pixels square instead of its own input size (for resolution studies; the temperature and threshold stay the model's).",
        };
        var skipBad = new Option<bool>("--skip-bad-rows") { Description = "Drop dataset rows with problems instead of stopping." };
        var pools = new Option<string[]>("--pool")
        {
            Description = "Also report these sources as one population: NAME=SOURCE[,SOURCE...], each SOURCE the start of a source's name " +
                          "(e.g. EyePACS=fundus-dev,fundus-train/EyePACS); repeatable.",
        };
        var threads = DrWebCommandLine.ThreadsOption();
        var command = new Command("evaluate", "Evaluate a model on labelled datasets, at its own temperature and referral threshold.")
        {
            data, model, outDir, split, batch, specificity, resamples, skipBad, threads, flip, inputSize, pools,
        };
        command.SetAction((parse, token) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                TorchRuntime.Initialize(DrWebCommandLine.TorchOptionsFromSettings(parse.GetValue(threads), null));
                string modelFolder = parse.GetValue(model)!.FullName;
                var (classifier, manifest) = ModelDirectory.Load(modelFolder);
                using var _ = classifier;
                if (parse.GetValue(inputSize) is { } size)
                {
                    if (size is < 64 or > 1024) throw new ArgumentException("--input-size must be between 64 and 1024 pixels.");
                    manifest = manifest with { Preprocessing = manifest.Preprocessing with { InputSize = size } };
                    output.WriteLine($"input size {size} px (the model was trained at {ModelDirectory.ReadManifest(modelFolder).Preprocessing.InputSize} px)");
                }
                var folders = parse.GetValue(data)!;
                var populations = (parse.GetValue(pools) ?? []).Select(Population.Parse).ToList();
                string which = parse.GetValue(split)!;
                if (which is not ("all" or "validation" or "test")) throw new ArgumentException("--split is all, validation or test.");
                var wanted = which switch { "validation" => manifest.ValidationIds.ToHashSet(), "test" => manifest.TestIds.ToHashSet(), _ => null };
                if (wanted is { Count: 0 }) throw new ArgumentException($"The model records no {which} images.");
                var policy = ReferralPolicy.From(manifest);
                output.WriteLine($"{manifest.Architecture}{(manifest.IsEnsemble ? $" ensemble of {manifest.EnsembleMembers.Count}" : "")} ({manifest.Head} head){(manifest.Label is null ? "" : $" [{manifest.Label}]")}; " +
                                 $"temperature {policy.Temperature:0.###}{(manifest.TestTimeFlip ? "; flip-averaged" : "")}; referral: " +
                                 (policy.OperatingPoint is { } op ? $"P(referable) >= {op.Threshold:0.000}, {op.Basis}" : "most likely grade >= 2 (no operating point recorded)"));
                int found = 0;
                var evaluated = new List<(LabelledImage Image, EvaluatedImage Prediction)>();
                foreach (var folder in folders)
                {
                    var dataset = DatasetReader.Read(folder.FullName, new DatasetReadOptions { SkipBadRows = parse.GetValue(skipBad) });
                    var images = wanted is null ? dataset.Images : dataset.Images.Where(i => wanted.Contains(i.Id)).ToList();
                    found += images.Count;
                    if (images.Count == 0) { output.WriteLine($"{dataset.Folder}: none of the model's {which} images"); continue; }
                    string name = Path.GetFileName(dataset.Folder.TrimEnd('/'));
                    string target = parse.GetValue(outDir)?.FullName is { } o
                        ? (folders.Length == 1 ? o : Path.Combine(o, name))
                        : Path.Combine(modelFolder, "evaluation-" + name);
                    var predictions = Evaluate(output, classifier, manifest, policy, images, target, $"{name} ({which})", parse.GetValue(batch),
                        parse.GetValue(specificity), parse.GetValue(resamples), parse.GetValue(flip) || manifest.TestTimeFlip, token);
                    var byId = images.ToDictionary(i => i.Id, StringComparer.Ordinal);
                    evaluated.AddRange(predictions.Select(p => (byId[p.Image], p)));
                }
                foreach (var population in populations)
                {
                    string target = parse.GetValue(outDir)?.FullName is { } o
                        ? Path.Combine(o, "pool-" + population.Name)
                        : Path.Combine(modelFolder, "evaluation-pool-" + population.Name);
                    EvaluatePopulation(output, population, evaluated, policy, target, $"{population.Name} ({which})",
                        parse.GetValue(specificity), parse.GetValue(resamples));
                }
                if (wanted is not null && found != wanted.Count)
                    output.WriteLine($"note: the model's {which} split has {wanted.Count} images; {found} of them are in the folders given.");
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

    /// <summary>Everything evaluate reports for one dataset, written to <paramref name="folder"/>.</summary>
    public sealed record DatasetEvaluation(string Dataset, double Temperature, OperatingPoint? OperatingPoint, EvaluationReport Report,
        IReadOnlyList<SourceReport> BySource, BootstrapReport? Intervals, Reliability Reliability, Reliability ReferableReliability);

    /// <summary>Sources reported together as one population, e.g. every EyePACS source whatever folder it came in.</summary>
    private sealed record Population(string Name, IReadOnlyList<string> SourcePrefixes)
    {
        public static Population Parse(string text)
        {
            int eq = text.IndexOf('=');
            string name = eq > 0 ? text[..eq].Trim() : "";
            var prefixes = eq > 0 ? text[(eq + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : [];
            if (name.Length == 0 || prefixes.Length == 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
                throw new ArgumentException($"--pool '{text}' is not NAME=SOURCE[,SOURCE...]; write e.g. --pool EyePACS=fundus-dev,fundus-train/EyePACS.");
            return new Population(name, prefixes);
        }

        public bool Holds(string source) => SourcePrefixes.Any(p => source.StartsWith(p, StringComparison.Ordinal));
    }

    /// <summary>
    /// One population's figures over the folders already evaluated: the same predictions, pooled, so that a figure such
    /// as "AUC on every EyePACS image" can be read with its interval instead of being averaged from per-source ones.
    /// </summary>
    private static void EvaluatePopulation(TextWriter output, Population population, IReadOnlyList<(LabelledImage Image, EvaluatedImage Prediction)> evaluated,
        ReferralPolicy policy, string folder, string title, double targetSpecificity, int resamples)
    {
        var members = evaluated.Where(e => population.Holds(e.Image.Source)).ToList();
        if (members.Count == 0)
        {
            output.WriteLine($"== {title}: no image comes from a source starting with {string.Join(" or ", population.SourcePrefixes)}");
            return;
        }
        var predictions = members.Select(m => m.Prediction).ToList();
        double? threshold = policy.OperatingPoint?.Threshold;
        var report = EvaluationReport.From(predictions, targetSpecificity, threshold);
        var patients = members.GroupBy(m => m.Image.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Image.PatientId, StringComparer.Ordinal);
        var intervals = resamples > 0 ? PatientBootstrap.Compute(predictions, patients, threshold, targetSpecificity, resamples) : null;
        string sources = string.Join(", ", members.Select(m => m.Image.Source).Distinct().Order(StringComparer.Ordinal));
        var evaluation = new DatasetEvaluation($"{title}: {sources}", policy.Temperature, policy.OperatingPoint, report,
            SourceReport.BySource(members.Select(m => m.Image).ToList(), predictions, targetSpecificity, threshold), intervals,
            CalibrationReport.TopGrade(predictions), CalibrationReport.Referable(predictions));
        var (metrics, csv) = ModelEvaluator.Write(folder, report, predictions);
        File.WriteAllText(metrics, JsonSerializer.Serialize(evaluation, ModelManifest.Json));
        EvaluationPlots.Roc(Path.Combine(folder, "roc.png"), predictions.Select(policy.Case).ToList(), threshold, $"Referable DR, {title}");
        PrintSummary(output, report, $"{title}, pooled over {sources}");
        if (intervals is not null) PrintIntervals(output, intervals);
        output.WriteLine($"wrote {metrics}, {csv} and roc.png");
    }

    private static List<EvaluatedImage> Evaluate(TextWriter output, FundusClassifier classifier, ModelManifest manifest, ReferralPolicy policy,
        IReadOnlyList<LabelledImage> images, string folder, string title, int batchSize, double targetSpecificity, int resamples,
        bool flipAverage, CancellationToken token)
    {
        var predictions = ModelEvaluator.Predict(classifier, manifest.Preprocessing, images, batchSize, token: token, temperature: policy.Temperature,
            flipAverage: flipAverage);
        if (flipAverage) title += ", flip-averaged";
        double? threshold = policy.OperatingPoint?.Threshold;
        var report = EvaluationReport.From(predictions, targetSpecificity, threshold);
        var bySource = SourceReport.BySource(images, predictions, targetSpecificity, threshold);
        var patients = images.ToDictionary(i => i.Id, i => i.PatientId, StringComparer.Ordinal);
        var intervals = resamples > 0 ? PatientBootstrap.Compute(predictions, patients, threshold, targetSpecificity, resamples) : null;
        var evaluation = new DatasetEvaluation(title, policy.Temperature, policy.OperatingPoint, report, bySource, intervals,
            CalibrationReport.TopGrade(predictions), CalibrationReport.Referable(predictions));
        var (metrics, csv) = ModelEvaluator.Write(folder, report, predictions);
        File.WriteAllText(metrics, JsonSerializer.Serialize(evaluation, ModelManifest.Json));
        var cases = predictions.Select(policy.Case).ToList();
        EvaluationPlots.Roc(Path.Combine(folder, "roc.png"), cases, threshold, $"Referable DR, {title}");
        EvaluationPlots.Reliability(Path.Combine(folder, "reliability.png"), evaluation.Reliability, "Top grade");
        EvaluationPlots.Reliability(Path.Combine(folder, "reliability-referable.png"), evaluation.ReferableReliability, "P(referable)");
        PrintReport(output, report, title);
        if (intervals is not null) PrintIntervals(output, intervals);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"calibration: ECE {evaluation.Reliability.ExpectedCalibrationError:0.000} (top grade), {evaluation.ReferableReliability.ExpectedCalibrationError:0.000} (P(referable))"));
        if (bySource.Count > 1)
            foreach (var s in bySource)
            {
                PrintSummary(output, s.Report, s.Source);
                if (resamples > 0)
                {
                    var ids = images.Where(i => i.Source == s.Source).Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
                    PrintIntervals(output, PatientBootstrap.Compute(predictions.Where(p => ids.Contains(p.Image)).ToList(), patients, threshold,
                        targetSpecificity, resamples));
                }
            }
        output.WriteLine($"wrote {metrics}, {csv}, roc.png and reliability PNGs");
        return predictions;
    }

    public static void PrintIntervals(TextWriter output, BootstrapReport b)
    {
        string I(Interval i) => double.IsNaN(i.Estimate) ? "n/a"
            : string.Create(CultureInfo.InvariantCulture, $"{i.Estimate:0.000} [{i.Lower:0.000}, {i.Upper:0.000}]");
        output.WriteLine($"95% intervals ({b.Resamples} bootstrap resamples of {b.Patients} patients): AUC {I(b.RocAuc)}; " +
                         $"at the model's rule sensitivity {I(b.Sensitivity)}, specificity {I(b.Specificity)}; " +
                         $"sensitivity at specificity {b.TargetSpecificity:0.000} {I(b.SensitivityAtTargetSpecificity)}; kappa {I(b.QuadraticWeightedKappa)}");
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
        output.WriteLine($"referable (grade >= 2, at the model's rule): sensitivity {rf.Sensitivity}, specificity {rf.Specificity}, accuracy {rf.Accuracy}, ROC AUC {F(rf.RocAuc)}");
        output.WriteLine($"  TP {rf.TruePositives}, FN {rf.FalseNegatives}, TN {rf.TrueNegatives}, FP {rf.FalsePositives}");
        output.WriteLine($"  at specificity >= {F(rf.TargetSpecificity)}: sensitivity {rf.SensitivityAtTarget}, specificity {rf.SpecificityAtTarget}, threshold P(referable) >= {F(rf.ThresholdAtTarget)}");
    }
}
