using System.CommandLine;
using System.Globalization;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Inference;
using DrWeb.Ml.Manifest;
using DrWeb.Ml.Torch;
using DrWeb.Ml.Training;

namespace DrWeb.Server.Cli;

/// <summary><c>bench</c>: DenseNet121 forward and Grad-CAM speed on this machine, per thread count.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var threads = new Option<int[]>("--threads")
        {
            Description = "Thread counts to measure, in one process.",
            DefaultValueFactory = _ => [1, 2],
            AllowMultipleArgumentsPerToken = true,
        };
        var batch = new Option<int>("--batch") { Description = "Batch size of the forward measurement.", DefaultValueFactory = _ => 8 };
        var iterations = new Option<int>("--iterations") { Description = "Timed repetitions per measurement.", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed repetitions first.", DefaultValueFactory = _ => 2 };
        var waitPolicy = new Option<string?>("--omp-wait-policy")
        {
            Description = "PASSIVE or ACTIVE; set before libtorch loads (default: DrWeb:Torch:OmpWaitPolicy).",
        };
        var camLayer = new Option<string?>("--cam-layer") { Description = "Layer for the Grad-CAM measurement." };
        var train = new Option<bool>("--train")
        {
            Description = "Measure training steps instead: DenseNet121 (paper layers) and ResNet18 (layer4 + head), with and without cached trunk features.",
        };

        var preprocess = new Option<FileInfo?>("--preprocess")
        {
            Description = "Measure preparing this photograph instead: decode, quality gate, fundus crop, and each colour recipe to model input.",
        };

        var screening = new Option<FileInfo?>("--screening")
        {
            Description = "Measure grading this photograph as screening does, with the model of --model: single, flip-averaged, and as an ensemble of --members copies.",
        };
        var cam = new Option<bool>("--cam")
        {
            Description = "Measure every CAM method on DenseNet121 at features.denseblock4 and features.denseblock4.denselayer16 (or --cam-layer), at batch 1 and 8, beside a forward pass.",
        };
        var modelFolder = new Option<DirectoryInfo?>("--model") { Description = "Model folder for --screening (default: the starter model beside the app)." };
        var members = new Option<int>("--members") { Description = "Ensemble size for --screening.", DefaultValueFactory = _ => 3 };

        var command = new Command("bench", "Measure DenseNet121 eval forward (ms/image at --batch) and Grad-CAM (ms/image at batch 1).")
        {
            threads, batch, iterations, warmup, waitPolicy, camLayer, train, preprocess, screening, modelFolder, members, cam,
        };
        command.SetAction((parse, _) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var options = DrWebCommandLine.TorchOptionsFromSettings(null, "cpu");
            if (parse.GetValue(waitPolicy) is { } policy) options.OmpWaitPolicy = policy;
            TorchRuntime.Initialize(options);
            output.WriteLine($"DrWeb bench: {TorchRuntime.Describe()}; {Environment.ProcessorCount} logical cores");
            output.WriteLine($"{"operation",-46} {"threads",7} {"batch",5} {"median ms/img",13} {"min",8} {"max",8}");
            void Print(BenchmarkTiming t) => output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{t.Operation,-46} {t.Threads,7} {t.Batch,5} {t.MedianMsPerImage,13:0.0} {t.MinMsPerImage,8:0.0} {t.MaxMsPerImage,8:0.0}   {1000 / t.MedianMsPerImage,6:0.0} img/s"));
            if (parse.GetValue(cam))
            {
                using var densenet = new DenseNet121(HeadKind.Paper);
                string[] layers = parse.GetValue(camLayer) is { } only ? [only] : ["features.denseblock4", "features.denseblock4.denselayer16"];
                int camThreads = parse.GetValue(threads)!.Max();
                var timings = new List<BenchmarkTiming>();
                foreach (var t in CamBenchmark.Run(densenet, layers, camThreads, Math.Max(1, parse.GetValue(iterations) / 2), 1))
                {
                    timings.Add(t);
                    var forward = timings.Last(f => f.Operation == "forward (eval)" && f.Batch == t.Batch);
                    Print(t);
                    if (t.Operation != "forward (eval)")
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"",46}   {t.MedianMsPerImage / forward.MedianMsPerImage:0.00}x a forward pass"));
                }
                return Task.FromResult(0);
            }
            if (parse.GetValue(preprocess) is { } photo)
            {
                if (!photo.Exists)
                {
                    parse.InvocationConfiguration.Error.WriteLine($"error: no file {photo.FullName}.");
                    return Task.FromResult(2);
                }
                foreach (var t in PreprocessingBenchmark.Run(File.ReadAllBytes(photo.FullName), photo.Name, parse.GetValue(iterations), parse.GetValue(warmup)))
                    Print(t);
                return Task.FromResult(0);
            }
            if (parse.GetValue(screening) is { } screeningPhoto)
            {
                string folder = parse.GetValue(modelFolder)?.FullName ?? Path.Combine(AppContext.BaseDirectory, "models", "screening-resnet18");
                if (!screeningPhoto.Exists || !ModelDirectory.IsModelDirectory(folder))
                {
                    parse.InvocationConfiguration.Error.WriteLine($"error: need a photograph ({screeningPhoto.FullName}) and a model folder ({folder}).");
                    return Task.FromResult(2);
                }
                var manifest = ModelDirectory.ReadManifest(folder);
                using var decoded = new DrWeb.Ml.Imaging.ImageDecoder().Decode(screeningPhoto.FullName);
                using var view = DrWeb.Ml.Imaging.ModelInput.Prepare(decoded.Pixels, manifest.Preprocessing);
                output.WriteLine($"model {folder}{(manifest.IsEnsemble ? $" (ensemble of {manifest.EnsembleMembers.Count})" : "")}");
                // An ensemble folder is measured as it is, against its first member alone; a single model against copies of itself.
                FundusClassifier Single()
                {
                    var loaded = ModelDirectory.Load(folder).Model;
                    if (loaded is not EnsembleClassifier e) return loaded;
                    var first = e.Members[0];
                    foreach (var other in e.Members.Skip(1)) other.Dispose();
                    return first;
                }
                EnsembleClassifier Ensemble() => ModelDirectory.Load(folder).Model as EnsembleClassifier
                    ?? new EnsembleClassifier(Enumerable.Range(0, parse.GetValue(members)).Select(_ => ModelDirectory.Load(folder).Model).ToList());
                foreach (int n in parse.GetValue(threads)!)
                    foreach (var t in ScreeningBenchmark.Run(Single, Ensemble, manifest.Preprocessing, view, n, parse.GetValue(iterations), parse.GetValue(warmup)))
                        Print(t);
                return Task.FromResult(0);
            }
            if (parse.GetValue(train))
            {
                foreach (int n in parse.GetValue(threads)!)
                {
                    TorchRuntime.SetThreads(n);
                    using (var densenet = new DenseNet121(HeadKind.Paper))
                        foreach (var t in TrainingBenchmark.Run(densenet, densenet.PaperPolicy, n, parse.GetValue(batch), parse.GetValue(iterations), parse.GetValue(warmup)))
                            Print(t);
                    using (var resnet = CntkResNet18.Pretrained())
                        foreach (var t in TrainingBenchmark.Run(resnet, resnet.PaperPolicy, n, parse.GetValue(batch), parse.GetValue(iterations), parse.GetValue(warmup)))
                            Print(t);
                }
                return Task.FromResult(0);
            }
            using var model = new DenseNet121(HeadKind.Paper);
            foreach (var t in InferenceBenchmark.Run(model, parse.GetValue(threads)!, parse.GetValue(batch),
                         parse.GetValue(iterations), parse.GetValue(warmup), parse.GetValue(camLayer)))
                Print(t);
            return Task.FromResult(0);
        });
        return command;
    }
}
