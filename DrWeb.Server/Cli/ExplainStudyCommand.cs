using System.CommandLine;
using System.Globalization;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Explain;
using DrWeb.Ml.Torch;
using TorchSharp;

namespace DrWeb.Server.Cli;

/// <summary><c>explain-study</c>: how far each CAM method can be trusted on a model, over a folder of photographs.</summary>
internal static class ExplainStudyCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "DrWeb model folder.", Required = true };
        var data = new Option<DirectoryInfo>("--data")
        {
            Description = "A lesion atlas (images/ and masks/, as ../shared/data/idrid-lesions) for faithfulness and lesion agreement, or a labelled dataset for faithfulness only.",
            Required = true,
        };
        var methods = new Option<string[]>("--methods")
        {
            Description = $"CAM methods, comma-separated or repeated (default: all: {string.Join(", ", CamMethods.Names)}).",
            AllowMultipleArgumentsPerToken = true,
        };
        var layer = new Option<string?>("--cam-layer") { Description = "The layer explained (default: the model's)." };
        var target = new Option<string>("--cam-target") { Description = "predicted, referable or a grade 0-4.", DefaultValueFactory = _ => "predicted" };
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "Where to write study.json, measurements.csv and report.html (default: <model>/explanation-study-<data>)." };
        var limit = new Option<int?>("--limit") { Description = "Only the first N photographs (in name order)." };
        var steps = new Option<int>("--steps") { Description = "Deletion and insertion steps.", DefaultValueFactory = _ => PerturbationCurves.DefaultSteps };
        var noFaithfulness = new Option<bool>("--no-faithfulness") { Description = "Skip deletion, insertion and ROAD (they cost about 38 forward passes per image and method)." };
        var noSanity = new Option<bool>("--no-sanity") { Description = "Skip the model-randomisation check." };
        var noBaseline = new Option<bool>("--no-baseline") { Description = "Skip the random-map baseline that every method is compared with." };
        var figures = new Option<int>("--figures") { Description = "Photographs shown with every method in the report.", DefaultValueFactory = _ => 4 };
        var seed = new Option<int>("--seed") { Description = "Seed of the randomised model.", DefaultValueFactory = _ => 0 };
        var threads = DrWebCommandLine.ThreadsOption();
        var device = DrWebCommandLine.DeviceOption();
        var command = new Command("explain-study",
            "Faithfulness (deletion, insertion, ROAD), the sanity check and, on photographs with expert masks, where each CAM method's heatmap falls.")
        {
            model, data, methods, layer, target, outDir, limit, steps, noFaithfulness, noSanity, noBaseline, figures, seed, threads, device,
        };
        command.SetAction((parse, token) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var torchOptions = DrWebCommandLine.TorchOptionsFromSettings(parse.GetValue(threads), parse.GetValue(device));
                TorchRuntime.Initialize(torchOptions);
                var options = new ExplanationStudyOptions
                {
                    Methods = (parse.GetValue(methods) ?? []).SelectMany(m => m.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList(),
                    Layer = parse.GetValue(layer),
                    Target = CamTarget.Parse(parse.GetValue(target)!),
                    Faithfulness = !parse.GetValue(noFaithfulness),
                    SanityCheck = !parse.GetValue(noSanity),
                    RandomBaseline = !parse.GetValue(noBaseline),
                    Steps = parse.GetValue(steps),
                    FigureImages = parse.GetValue(figures),
                };
                var methodList = options.ResolveMethods();
                string modelFolder = parse.GetValue(model)!.FullName;
                string dataFolder = parse.GetValue(data)!.FullName.TrimEnd('/');
                var images = ExplanationStudy.ImagesIn(dataFolder);
                if (parse.GetValue(limit) is { } n) images = images.Take(Math.Max(1, n)).ToList();

                var torchDevice = TorchRuntime.Device;
                var (classifier, manifest) = ModelDirectory.Load(modelFolder);
                using var _ = classifier;
                classifier.to(torchDevice);
                FundusClassifier? randomised = null;
                if (options.SanityCheck)
                {
                    randomised = ModelDirectory.Load(modelFolder).Model;
                    int count = SanityCheck.RandomiseTrainedLayers(randomised, parse.GetValue(seed));
                    randomised.to(torchDevice);
                    output.WriteLine($"sanity check: {count} trained parameter tensors randomised (seed {parse.GetValue(seed)})");
                }
                using var __ = randomised;
                string name = Path.GetFileName(dataFolder);
                string folder = parse.GetValue(outDir)?.FullName ?? Path.Combine(modelFolder, "explanation-study-" + name);
                output.WriteLine($"{manifest.Architecture} from {modelFolder}; {images.Count} photographs of {name}; methods {string.Join(", ", methodList.Select(m => m.Name))}; " +
                                 $"target {options.Target}; {(options.Faithfulness ? $"deletion/insertion ({options.Steps} steps) and ROAD" : "no faithfulness")}");
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var result = ExplanationStudy.Run(classifier, randomised, manifest.Preprocessing, Path.GetFileName(modelFolder) + (manifest.Label is null ? "" : $" [{manifest.Label}]"),
                    name, images, options, (done, total) =>
                    {
                        if (done == total || done % 5 == 0) output.WriteLine($"  {done}/{total} photographs, {clock.Elapsed.TotalMinutes:0.0} min");
                    }, token);
                ExplanationStudyReport.Write(folder, result);
                Print(output, result);
                output.WriteLine($"wrote {Path.Combine(folder, ExplanationStudyReport.ReportFile)}, {ExplanationStudyReport.SummaryFile} and {ExplanationStudyReport.MeasurementsFile} in {clock.Elapsed.TotalMinutes:0.0} min");
                return Task.FromResult(0);
            }
            catch (DatasetException e)
            {
                error.WriteLine($"error: the photographs cannot be used.{Environment.NewLine}{e.Message}");
                return Task.FromResult(2);
            }
            catch (Exception e) when (e is CheckpointException or ArgumentException or InvalidDataException or TorchRuntime.TorchUnavailableException
                                          or SixLabors.ImageSharp.ImageFormatException or DrWeb.Ml.Imaging.ImageRejectedException)
            {
                error.WriteLine($"error: {e.Message}");
                return Task.FromResult(2);
            }
        });
        return command;
    }

    private static void Print(TextWriter output, ExplanationStudyResult result)
    {
        string F(double v, string f = "0.000") => double.IsFinite(v) ? v.ToString(f, CultureInfo.InvariantCulture) : "n/a";
        output.WriteLine("method      deletion  insertion  ROAD     sanity rho  pointing (chance)  lesion AUROC  lesion energy / enrichment  within the fundus: lesions, vessels, optic disc");
        foreach (var m in result.Methods)
        {
            var lesions = m.Regions.FirstOrDefault(r => r.Region == FundusRegions.LesionRegion);
            output.WriteLine($"{m.Method,-11} {F(m.DeletionAuc),8}  {F(m.InsertionAuc),9}  {F(m.RoadScore, "0.0000"),7}  {F(m.SanityRankCorrelation),10}  " +
                             $"{(m.PointingImages > 0 ? $"{m.PointingHits}/{m.PointingImages} ({F(m.PointingChance * 100, "0")}%)" : "n/a"),-17}  {F(m.LesionAuroc),12}  " +
                             $"{(lesions is null ? "n/a" : $"{F(lesions.EnergyShare)} / {F(lesions.Enrichment, "0.00")}x"),-26}  " +
                             $"{F(m.WithinFundus(FundusRegions.LesionRegion), "0.00")}x, {F(m.WithinFundus(FundusRegions.VesselRegion), "0.00")}x, {F(m.WithinFundus(FundusRegions.OpticDiscRegion), "0.00")}x");
        }
    }
}
