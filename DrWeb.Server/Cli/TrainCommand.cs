using System.CommandLine;
using System.Globalization;
using DrWeb.Ml.Data;
using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Models;
using DrWeb.Ml.Torch;
using DrWeb.Ml.Training;
using Spectre.Console;

namespace DrWeb.Server.Cli;

/// <summary><c>train</c>: fine-tune a model on a dataset folder and write a model folder.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var data = new Option<DirectoryInfo>("--data") { Description = "Dataset folder (Kaggle, APTOS, folder-per-grade or image,grade CSV).", Required = true };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Model folder to write (model.json, weights, checkpoint).", Required = true };
        var arch = new Option<string>("--arch") { Description = "resnet18 (bundled ImageNet weights) or densenet121.", DefaultValueFactory = _ => "resnet18" };
        var weights = new Option<FileInfo?>("--weights") { Description = "ImageNet checkpoint for the backbone (needed for densenet121; resnet18 uses the bundled one)." };
        var head = new Option<string>("--head") { Description = "paper or linear.", DefaultValueFactory = _ => "paper" };
        var trainable = new Option<string>("--trainable") { Description = "paper (the study's layers), head, all, or name prefixes (e.g. layer4.2,fc).", DefaultValueFactory = _ => "paper" };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 8 };
        var accumulate = new Option<int>("--accumulate") { Description = "Batches per optimiser step (effective batch = batch-size x accumulate).", DefaultValueFactory = _ => 1 };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 1e-4 };
        var beta1 = new Option<double>("--beta1") { DefaultValueFactory = _ => 0.0 };
        var beta2 = new Option<double>("--beta2") { DefaultValueFactory = _ => 0.99 };
        var eps = new Option<double>("--eps") { DefaultValueFactory = _ => 1e-8 };
        var schedule = new Option<string>("--schedule") { Description = "constant or cosine.", DefaultValueFactory = _ => "constant" };
        var sampler = new Option<string>("--sampler") { Description = "paper (weighted, with replacement), auto (inverse frequency) or none (shuffle).", DefaultValueFactory = _ => "paper" };
        var samplerWeights = new Option<string>("--sampler-weights") { Description = "Five per-grade weights for --sampler paper.", DefaultValueFactory = _ => "0.1,1,0.5,3,4" };
        var noAugment = new Option<bool>("--no-augment") { Description = "Turn off the paper's augmentations." };
        var cacheFeatures = new Option<bool>("--cache-features") { Description = "Compute the frozen trunk once (needs --no-augment)." };
        var valFraction = new Option<double>("--val-fraction") { DefaultValueFactory = _ => 0.2 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42 };
        var patience = new Option<int>("--patience") { Description = "Early stopping after N epochs without improvement (0 = off).", DefaultValueFactory = _ => 0 };
        var stopMetric = new Option<string>("--stop-metric") { Description = "val-loss, kappa or auc.", DefaultValueFactory = _ => "val-loss" };
        var maxBatches = new Option<int>("--max-batches") { Description = "Batches per epoch at most (0 = all); for smoke tests.", DefaultValueFactory = _ => 0 };
        var resume = new Option<bool>("--resume") { Description = "Continue from the checkpoint in --out." };
        var skipBad = new Option<bool>("--skip-bad-rows") { Description = "Drop dataset rows with problems instead of stopping." };
        var label = new Option<string?>("--label") { Description = "Label stored with the model and shown wherever it is used." };
        var crop = new Option<bool>("--crop") { Description = "Crop each photograph to its detected fundus circle first (for raw camera photographs)." };
        var recipe = new Option<string>("--recipe") { Description = "Colour normalisation: none, graham or clahe (recorded in model.json, applied at inference).", DefaultValueFactory = _ => "none" };
        var trainedOnly = new Option<bool>("--trained-only") { Description = "Store only the trained layers (resnet18: the rest is the bundled backbone)." };
        var threads = DrWebCommandLine.ThreadsOption();

        var command = new Command("train", "Fine-tune a model on a labelled fundus dataset.")
        {
            data, outDir, arch, weights, head, trainable, epochs, batch, accumulate, lr, beta1, beta2, eps, schedule, sampler,
            samplerWeights, noAugment, cacheFeatures, valFraction, seed, patience, stopMetric, maxBatches, resume, skipBad, label,
            trainedOnly, threads, crop, recipe,
        };
        command.SetAction((parse, token) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var options = new TrainingOptions
                {
                    Epochs = parse.GetValue(epochs), BatchSize = parse.GetValue(batch), AccumulationSteps = parse.GetValue(accumulate),
                    LearningRate = parse.GetValue(lr), Beta1 = parse.GetValue(beta1), Beta2 = parse.GetValue(beta2), Epsilon = parse.GetValue(eps),
                    Schedule = parse.GetValue(schedule) == "cosine" ? LrSchedule.Cosine : LrSchedule.Constant,
                    Sampler = EpochSampler.Parse(parse.GetValue(sampler)!),
                    SamplerWeights = parse.GetValue(samplerWeights)!.Split(',').Select(w => double.Parse(w, CultureInfo.InvariantCulture)).ToArray(),
                    Augmentation = parse.GetValue(noAugment) ? AugmentationOptions.None : new AugmentationOptions(),
                    CacheFrozenFeatures = parse.GetValue(cacheFeatures), ValidationFraction = parse.GetValue(valFraction),
                    Seed = parse.GetValue(seed), EarlyStoppingPatience = parse.GetValue(patience),
                    StoppingMetric = parse.GetValue(stopMetric) switch
                    {
                        "kappa" => StoppingMetric.Kappa, "auc" => StoppingMetric.ReferableAuc, "val-loss" => StoppingMetric.ValidationLoss,
                        var m => throw new ArgumentException($"Unknown --stop-metric '{m}'. Use val-loss, kappa or auc."),
                    },
                    Trainable = parse.GetValue(trainable)!, MaxBatchesPerEpoch = parse.GetValue(maxBatches),
                };
                options.Validate();
                return Task.FromResult(Run(parse.GetValue(data)!.FullName, parse.GetValue(outDir)!.FullName, parse.GetValue(arch)!,
                    parse.GetValue(weights)?.FullName, parse.GetValue(head)!, options, parse.GetValue(resume), parse.GetValue(skipBad),
                    parse.GetValue(label), parse.GetValue(trainedOnly), parse.GetValue(threads), output, token,
                    parse.GetValue(crop), ColourRecipes.Parse(parse.GetValue(recipe)!)));
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

    private static int Run(string dataFolder, string outFolder, string arch, string? weights, string head, TrainingOptions options,
        bool resume, bool skipBadRows, string? label, bool trainedOnly, int? threads, TextWriter output, CancellationToken token,
        bool cropFundus = false, ColourRecipe recipe = ColourRecipe.None)
    {
        TorchRuntime.Initialize(DrWebCommandLine.TorchOptionsFromSettings(threads, null));
        var dataset = DatasetReader.Read(dataFolder, new DatasetReadOptions { SkipBadRows = skipBadRows });
        output.WriteLine(dataset.Report.Summary());
        output.WriteLine($"grades 0-4: {string.Join(" / ", dataset.GradeCounts)}; {TorchRuntime.Describe()}");

        if (trainedOnly && (arch != "resnet18" || weights is not null))
            throw new ArgumentException("--trained-only needs a bundled backbone (resnet18 without --weights).");
        var (model, baseWeights, description) = ModelFactory.CreateForFineTuning(arch, Heads.Parse(head), weights);
        output.WriteLine($"base weights: {description}");

        using var _ = model;
        Directory.CreateDirectory(outFolder);
        var preprocessing = ModelFactory.PreprocessingFor(model, cropFundus, recipe);
        var trainer = new Trainer(model, preprocessing, options);
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
                result = trainer.Run(dataset.Images, Path.Combine(outFolder, "checkpoint.bin"), resume, progress, token);
            });

        var manifest = ModelManifest.ForTrainedModel(model, preprocessing, options, dataset, result, baseWeights, label);
        ModelDirectory.Save(outFolder, model, manifest, trainedOnly);
        ModelEvaluator.Write(Path.Combine(outFolder, "validation"), result.BestValidation, result.BestValidationImages);
        output.WriteLine($"best epoch {result.BestEpoch} of {result.History.Count}{(result.StoppedEarly ? " (stopped early)" : "")}, {result.Duration:hh\\:mm\\:ss} on {result.Device}");
        EvaluateCommand.PrintReport(output, result.BestValidation, "validation split");
        output.WriteLine($"model written to {outFolder}");
        return 0;
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; training events must be shown in order, on the training thread.</summary>
    private sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
    {
        public void Report(T value) => handler(value);
    }
}
