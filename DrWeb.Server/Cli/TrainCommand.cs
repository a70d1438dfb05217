using System.CommandLine;
using System.Globalization;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Manifest;
using DrWeb.Ml.Torch;
using DrWeb.Ml.Training;
using Spectre.Console;

namespace DrWeb.Server.Cli;

/// <summary><c>train</c>: fine-tune a model on a dataset folder and write a model folder.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var data = new Option<DirectoryInfo[]>("--data")
        {
            Description = "Dataset folder (Kaggle, APTOS, folder-per-grade or image,grade CSV); repeat it to train on several, split by patient over their union.",
            Required = true, AllowMultipleArgumentsPerToken = false,
        };
        var preset = new Option<string>("--preset") { Description = "screening (the default: DrWeb's recipe) or paper (the study's); options given explicitly override it.", DefaultValueFactory = _ => TrainingPreset.Default.Name };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Model folder to write (model.json, weights, checkpoint).", Required = true };
        var arch = new Option<string>("--arch") { Description = "resnet18 (bundled ImageNet weights) or densenet121.", DefaultValueFactory = _ => "resnet18" };
        var weights = new Option<FileInfo?>("--weights") { Description = "ImageNet checkpoint for the backbone (needed for densenet121; resnet18 uses the bundled one)." };
        var head = new Option<string>("--head") { Description = "paper or linear.", DefaultValueFactory = _ => "paper" };
        var weightDecay = new Option<double>("--weight-decay") { DefaultValueFactory = _ => 0 };
        var adamw = new Option<bool>("--adamw") { Description = "Decoupled weight decay (AdamW)." };
        var warmup = new Option<int>("--warmup") { Description = "Optimiser steps of linear learning-rate warm-up.", DefaultValueFactory = _ => 0 };
        var smoothing = new Option<double>("--label-smoothing") { DefaultValueFactory = _ => 0 };
        var epochSize = new Option<int>("--epoch-size") { Description = "Images drawn per epoch (0 = as many as training images).", DefaultValueFactory = _ => 0 };
        var operatingPoint = new Option<string>("--operating-point")
        {
            Description = "Referral threshold chosen on validation: sensitivity:0.87 (default), specificity:0.913 or threshold:<P(referable)>.",
            DefaultValueFactory = _ => "sensitivity:0.87",
        };
        var testFraction = new Option<double>("--test-fraction") { Description = "Share of patients set aside before training for final figures (0 = none).", DefaultValueFactory = _ => 0.1 };
        var nearDuplicates = new Option<int>("--near-duplicate-bits") { Description = "Hamming distance (of 1024 hash bits) within which photographs count as one (-1 = do not look).", DefaultValueFactory = _ => NearDuplicates.DefaultMaxDistance };
        var trainable = new Option<string>("--trainable") { Description = "paper (the study's layers), head, all, or name prefixes (e.g. layer4.2,fc).", DefaultValueFactory = _ => "paper" };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 8 };
        var accumulate = new Option<int>("--accumulate") { Description = "Batches per optimiser step (effective batch = batch-size x accumulate).", DefaultValueFactory = _ => 1 };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 1e-4 };
        var beta1 = new Option<double>("--beta1") { DefaultValueFactory = _ => 0.0 };
        var beta2 = new Option<double>("--beta2") { DefaultValueFactory = _ => 0.99 };
        var eps = new Option<double>("--eps") { DefaultValueFactory = _ => 1e-8 };
        var schedule = new Option<string>("--schedule") { Description = "constant or cosine.", DefaultValueFactory = _ => "constant" };
        var sampler = new Option<string>("--sampler") { Description = "paper (weighted, with replacement), auto (inverse frequency), sqrt (1/sqrt frequency) or none (shuffle).", DefaultValueFactory = _ => "paper" };
        var samplerWeights = new Option<string>("--sampler-weights") { Description = "Five per-grade weights for --sampler paper.", DefaultValueFactory = _ => "0.1,1,0.5,3,4" };
        var noAugment = new Option<bool>("--no-augment") { Description = "Turn off the paper's augmentations." };
        var cacheFeatures = new Option<bool>("--cache-features") { Description = "Compute the frozen trunk once (needs --no-augment)." };
        var valFraction = new Option<double>("--val-fraction") { DefaultValueFactory = _ => 0.2 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42 };
        var splitSeed = new Option<int?>("--split-seed") { Description = "Seed of the patient split (default: --seed); ensemble members share one." };
        var patience = new Option<int>("--patience") { Description = "Early stopping after N epochs without improvement (0 = off).", DefaultValueFactory = _ => 0 };
        var stopMetric = new Option<string>("--stop-metric") { Description = "val-loss, kappa or auc.", DefaultValueFactory = _ => "val-loss" };
        var maxBatches = new Option<int>("--max-batches") { Description = "Batches per epoch at most (0 = all); for smoke tests.", DefaultValueFactory = _ => 0 };
        var resume = new Option<bool>("--resume") { Description = "Continue from the checkpoint in --out." };
        var skipBad = new Option<bool>("--skip-bad-rows") { Description = "Drop dataset rows with problems instead of stopping." };
        var label = new Option<string?>("--label") { Description = "Label stored with the model and shown wherever it is used." };
        var crop = new Option<bool>("--crop") { Description = "Crop each photograph to its detected fundus circle first (for raw camera photographs)." };
        var recipe = new Option<string>("--recipe") { Description = "Colour normalisation: none, graham or clahe (recorded in model.json, applied at inference).", DefaultValueFactory = _ => "none" };
        var trainedOnly = new Option<bool>("--trained-only") { Description = "Store only the trained layers (resnet18: the rest is the bundled backbone)." };
        var fp16 = new Option<bool>("--fp16") { Description = "With --trained-only: store the trained tensors in fp16 (half the file)." };
        var int8 = new Option<bool>("--int8") { Description = "With --trained-only: store weights as int8 with a scale per output channel, the rest in fp16 (a quarter of the file)." };
        var views = new Option<int>("--views")
        {
            Description = "Augmented views of the frozen trunk's output cached per training image (0 = none). Later epochs and runs on the same data then cost only the trained layers.",
            DefaultValueFactory = _ => 0,
        };
        var viewCache = new Option<DirectoryInfo?>("--view-cache") { Description = $"Folder of the view cache (default {DefaultViewCacheFolder})." };
        var viewCacheGb = new Option<double>("--view-cache-gb") { Description = "Size bound of the view cache folder, in GiB.", DefaultValueFactory = _ => ViewCacheSettings.DefaultMaxBytes / (double)(1L << 30) };
        var inputSize = new Option<int?>("--input-size") { Description = "Train (and later grade) at this many pixels square instead of the architecture's 224." };
        var threads = DrWebCommandLine.ThreadsOption();

        var command = new Command("train", "Fine-tune a model on a labelled fundus dataset.")
        {
            data, outDir, arch, weights, head, trainable, epochs, batch, accumulate, lr, beta1, beta2, eps, schedule, sampler,
            samplerWeights, noAugment, cacheFeatures, valFraction, seed, patience, stopMetric, maxBatches, resume, skipBad, label,
            trainedOnly, threads, crop, recipe, preset, weightDecay, adamw, warmup, smoothing, epochSize, testFraction, nearDuplicates, operatingPoint, fp16, int8, splitSeed, views, viewCache, viewCacheGb, inputSize,
        };
        command.SetAction((parse, token) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var chosen = TrainingPreset.Parse(parse.GetValue(preset)!);
                bool Given(Option o) => parse.GetResult(o) is { Implicit: false };
                T Pick<T>(Option<T> o, T presetValue) => Given(o) ? parse.GetValue(o)! : presetValue;
                var p = chosen.Options;
                string samplerName = Pick(sampler, p.Sampler switch
                {
                    SamplerKind.InverseFrequency => "auto", SamplerKind.SquareRootInverseFrequency => "sqrt", SamplerKind.Shuffle => "none", _ => "paper",
                });
                var options = p with
                {
                    Epochs = Pick(epochs, p.Epochs), BatchSize = Pick(batch, p.BatchSize), AccumulationSteps = Pick(accumulate, p.AccumulationSteps),
                    LearningRate = Pick(lr, p.LearningRate), Beta1 = Pick(beta1, p.Beta1), Beta2 = Pick(beta2, p.Beta2), Epsilon = Pick(eps, p.Epsilon),
                    WeightDecay = Pick(weightDecay, p.WeightDecay), DecoupledWeightDecay = Given(adamw) || p.DecoupledWeightDecay,
                    WarmupSteps = Pick(warmup, p.WarmupSteps), LabelSmoothing = Pick(smoothing, p.LabelSmoothing), EpochSize = Pick(epochSize, p.EpochSize),
                    Schedule = Given(schedule) ? (parse.GetValue(schedule) == "cosine" ? LrSchedule.Cosine : LrSchedule.Constant) : p.Schedule,
                    Sampler = EpochSampler.Parse(samplerName),
                    SamplerWeights = Given(samplerWeights)
                        ? parse.GetValue(samplerWeights)!.Split(',').Select(w => double.Parse(w, CultureInfo.InvariantCulture)).ToArray()
                        : p.SamplerWeights,
                    Augmentation = parse.GetValue(noAugment) ? AugmentationOptions.None : p.Augmentation,
                    CacheFrozenFeatures = parse.GetValue(cacheFeatures), ValidationFraction = Pick(valFraction, p.ValidationFraction),
                    Seed = Pick(seed, p.Seed), SplitSeed = parse.GetValue(splitSeed), EarlyStoppingPatience = Pick(patience, p.EarlyStoppingPatience),
                    StoppingMetric = !Given(stopMetric) ? p.StoppingMetric : parse.GetValue(stopMetric) switch
                    {
                        "kappa" => StoppingMetric.Kappa, "auc" => StoppingMetric.ReferableAuc, "val-loss" => StoppingMetric.ValidationLoss,
                        var m => throw new ArgumentException($"Unknown --stop-metric '{m}'. Use val-loss, kappa or auc."),
                    },
                    Trainable = Pick(trainable, p.Trainable), ViewsPerImage = Pick(views, p.ViewsPerImage), MaxBatchesPerEpoch = parse.GetValue(maxBatches),
                };
                options.Validate();
                double gb = parse.GetValue(viewCacheGb);
                if (gb <= 0) throw new ArgumentException("--view-cache-gb must be positive.");
                var cacheSettings = new ViewCacheSettings(parse.GetValue(viewCache)?.FullName ?? DefaultViewCacheFolder, (long)(gb * (1L << 30)));
                double test = parse.GetValue(testFraction);
                if (test is < 0 or >= 0.5) throw new ArgumentException("--test-fraction must be in [0, 0.5).");
                return Task.FromResult(Run(parse.GetValue(data)!.Select(d => d.FullName).ToList(), parse.GetValue(outDir)!.FullName, parse.GetValue(arch)!,
                    parse.GetValue(weights)?.FullName, Pick(head, chosen.Head), options, parse.GetValue(resume), parse.GetValue(skipBad),
                    parse.GetValue(label), parse.GetValue(trainedOnly), parse.GetValue(threads), output, token,
                    Given(crop) || chosen.CropFundus, Given(recipe) ? ColourRecipes.Parse(parse.GetValue(recipe)!) : chosen.Recipe,
                    test, parse.GetValue(nearDuplicates), chosen.Name, ModelCalibrator.ParseTarget(parse.GetValue(operatingPoint)!), parse.GetValue(fp16), parse.GetValue(int8), cacheSettings, parse.GetValue(inputSize)));
            }
            catch (DatasetException e)
            {
                error.WriteLine($"error: the dataset cannot be used.{Environment.NewLine}{e.Message}");
                return Task.FromResult(2);
            }
            catch (Exception e) when (e is CheckpointException or ArgumentException or FormatException or InvalidOperationException
                                          or InvalidDataException or TorchRuntime.TorchUnavailableException)
            {
                error.WriteLine($"error: {e.Message}");
                return Task.FromResult(2);
            }
            catch (OperationCanceledException)
            {
                error.WriteLine("cancelled: the last completed epoch is in the checkpoint; run again with --resume to continue.");
                return Task.FromResult(130);
            }
        });
        return command;
    }

    /// <summary>Per-user cache folder, outside the repository and the model folders.</summary>
    public static readonly string DefaultViewCacheFolder = Path.Combine(
        Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"),
        "drweb", "views");

    private static int Run(IReadOnlyList<string> dataFolders, string outFolder, string arch, string? weights, string head, TrainingOptions options,
        bool resume, bool skipBadRows, string? label, bool trainedOnly, int? threads, TextWriter output, CancellationToken token,
        bool cropFundus, ColourRecipe recipe, double testFraction, int nearDuplicateBits, string presetName,
        (OperatingTarget Kind, double Value) operatingPoint, bool halfPrecision, bool int8Weights, ViewCacheSettings viewCache, int? inputSize)
    {
        TorchRuntime.Initialize(DrWebCommandLine.TorchOptionsFromSettings(threads, null));
        var parts = new List<Dataset>();
        foreach (var folder in dataFolders)
        {
            var part = DatasetReader.Read(folder, new DatasetReadOptions { SkipBadRows = skipBadRows });
            output.WriteLine(part.Report.Summary());
            parts.Add(part);
        }
        var dataset = DatasetUnion.Combine(parts, nearDuplicateBits, token);
        output.WriteLine($"{dataset.Images.Count} images, grades 0-4: {string.Join(" / ", dataset.GradeCounts)}; {dataset.NearDuplicates.Summary()}");
        foreach (var source in dataset.Images.GroupBy(i => i.Source).OrderBy(g => g.Key, StringComparer.Ordinal))
            output.WriteLine($"  {source.Key}: {source.Count()} images, {source.Count(i => i.Grade >= 2)} referable");
        var (trainable, test) = testFraction > 0 ? PatientSplit.HoldOut(dataset.Images, testFraction, options.EffectiveSplitSeed) : (dataset.Images, []);
        output.WriteLine($"preset {presetName}; {test.Count} images of {test.Select(i => i.PatientId).Distinct().Count()} patients held out for final figures; " +
                         TorchRuntime.Describe());

        if ((halfPrecision || int8Weights) && !trainedOnly)
            throw new ArgumentException("--fp16 and --int8 need --trained-only.");
        if (trainedOnly && (arch != "resnet18" || weights is not null))
            throw new ArgumentException("--trained-only needs a bundled backbone (resnet18 without --weights).");
        var (model, baseWeights, description) = ModelFactory.CreateForFineTuning(arch, Heads.Parse(head), weights);
        output.WriteLine($"base weights: {description}");

        using var _ = model;
        Directory.CreateDirectory(outFolder);
        var preprocessing = ModelFactory.PreprocessingFor(model, cropFundus, recipe);
        if (inputSize is { } size)
        {
            if (size is < 64 or > 1024) throw new ArgumentException("--input-size must be between 64 and 1024 pixels.");
            preprocessing = preprocessing with { InputSize = size };
        }
        var trainer = new Trainer(model, preprocessing, options, viewCache);
        TrainingResult result = null!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var bar = ctx.AddTask("epoch 1", maxValue: 1);
                var progress = new SynchronousProgress<TrainingEvent>(e =>
                {
                    switch (e)
                    {
                        case StepCompleted s:
                            bar.MaxValue = s.StepsPerEpoch;
                            bar.Value = s.Step;
                            bar.Description = $"epoch {s.Epoch}/{options.Epochs} loss {s.Loss:0.000}";
                            break;
                        case EpochCompleted c:
                            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                                $"epoch {c.Epoch}/{c.Epochs}: train loss {c.TrainLoss:0.000}, val loss {c.ValidationLoss:0.000}, " +
                                $"kappa {c.Validation.QuadraticWeightedKappa:0.000}, referable AUC {c.Validation.Referable.RocAuc:0.000}, " +
                                $"sens {c.Validation.Referable.Sensitivity}, spec {c.Validation.Referable.Specificity}, " +
                                $"{c.Elapsed:hh\\:mm\\:ss} elapsed, ETA {c.EstimatedRemaining:hh\\:mm\\:ss}{(c.Improved ? " *" : "")}")));
                            break;
                        case PhaseChanged p:
                            bar.Description = p.Phase;
                            break;
                    }
                });
                result = trainer.Run(trainable, Path.Combine(outFolder, "checkpoint.bin"), resume, progress, token);
            });

        if (trainer.Views is { } cache) output.WriteLine(cache.Describe());
        var manifest = TrainedModelManifest.For(model, preprocessing, options, dataset, result, baseWeights, label);
        ModelEvaluator.Write(Path.Combine(outFolder, "validation"), result.BestValidation, result.BestValidationImages);
        output.WriteLine($"best epoch {result.BestEpoch} of {result.History.Count}{(result.StoppedEarly ? " (stopped early)" : "")}, {result.Duration:hh\\:mm\\:ss} on {result.Device}");
        manifest = ModelCalibrator.Calibrate(manifest, result.BestValidationImages, operatingPoint.Kind, operatingPoint.Value, "train",
            result.Split.Validation);
        CalibrateCommand.PrintCalibration(output, manifest);
        EvaluateCommand.PrintReport(output, manifest.Validation!, "validation split, at the operating point");
        foreach (var source in manifest.ValidationBySource)
            EvaluateCommand.PrintSummary(output, source.Report, $"validation, {source.Source}");
        ModelDirectory.Save(outFolder, model, manifest with { TestIds = test.Select(i => i.Id).ToList() }, trainedOnly, halfPrecision, int8Weights);
        manifest = ModelDirectory.ReadManifest(outFolder);
        if (test.Count > 0)
            manifest = CalibrateCommand.MeasureTest(outFolder, manifest, test, output, token);
        ModelDirectory.SaveManifest(outFolder, manifest);

        output.WriteLine($"model written to {outFolder}");
        return 0;
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; training events must be shown in order, on the training thread.</summary>
    private sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
    {
        public void Report(T value) => handler(value);
    }
}
