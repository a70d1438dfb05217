using System.Diagnostics;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Manifest;
using DrWeb.Ml.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DrWeb.Ml.Training;

/// <summary>
/// Fine-tunes a <see cref="FundusClassifier"/> with Adam and cross-entropy, evaluating on a patient-level split
/// after every epoch and writing a resumable checkpoint. The frozen part of the network runs without an autograd
/// graph; its output on validation images (and, without augmentation, on training images) is computed once. With
/// <see cref="TrainingOptions.ViewsPerImage"/>, augmented views of the prefix's output come from a
/// <see cref="FrozenViewCache"/> on disk.
/// </summary>
/// <summary>Where a <see cref="FrozenViewCache"/> lives on this machine, and how large it may grow.</summary>
public sealed record ViewCacheSettings(string Directory, long MaxBytes)
{
    public const long DefaultMaxBytes = 16L << 30;
}

public sealed class Trainer(FundusClassifier model, Preprocessing preprocessing, TrainingOptions options, ViewCacheSettings? viewCache = null)
{
    public FundusClassifier Model { get; } = model;
    public Preprocessing Preprocessing { get; } = preprocessing;
    public TrainingOptions Options { get; } = options;

    /// <summary>The view cache of the last <see cref="Run"/>, for its counters; null when none was used.</summary>
    public FrozenViewCache? Views { get; private set; }

    /// <param name="checkpointPath">Written after every epoch; if it exists and <paramref name="resume"/> is set, the run continues from it.</param>
    public TrainingResult Run(IReadOnlyList<LabelledImage> images, string checkpointPath, bool resume = false,
        IProgress<TrainingEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        Options.Validate();
        var clock = Stopwatch.StartNew();
        var device = TorchRuntime.IsInitialized ? TorchRuntime.Device : CPU;
        Model.to(device);
        Model.ApplyTrainablePolicy(TrainablePolicy.Parse(Options.Trainable, Model));
        string? boundary = Model.FrozenPrefixEnd();
        Views = OpenViewCache(boundary, device);

        var split = PatientSplit.Split(images, Options.ValidationFraction, Options.EffectiveSplitSeed);
        if (split.Train.Count == 0 || split.Validation.Count == 0)
            throw new ArgumentException($"{images.Count} image(s) are too few to split into training and validation by patient.");
        var trainGrades = split.Train.Select(i => i.Grade).ToArray();

        var trainable = Model.TrainableParameters().ToList();
        if (trainable.Count == 0)
            throw new ArgumentException($"The trainable policy '{Options.Trainable}' leaves nothing to train.");
        using var optimizer = optim.Adam(trainable, Options.LearningRate, Options.Beta1, Options.Beta2, Options.Epsilon,
            Options.DecoupledWeightDecay ? 0 : Options.WeightDecay);

        var history = new List<EpochSummary>();
        int firstEpoch = 1, bestEpoch = 0, stale = 0;
        double best = double.NaN;
        string bestWeights = checkpointPath + ".best";
        if (resume && File.Exists(checkpointPath))
        {
            var header = Checkpoint.Restore(checkpointPath, Model, optimizer);
            CheckSameRun(header, split);
            history.AddRange(header.History);
            (firstEpoch, best, bestEpoch, stale) = (header.EpochsCompleted + 1, header.BestMetric, header.BestEpoch, header.EpochsWithoutImprovement);
            progress?.Report(new PhaseChanged($"resumed after epoch {header.EpochsCompleted}"));
        }
        else
        {
            if (Options.InitialiseHead) Model.InitialiseHead(Options.Seed);
            torch.manual_seed(Options.Seed);
        }

        var trainCache = Options.CacheFrozenFeatures && boundary is not null ? new Dictionary<int, Tensor>() : null;
        var validationCache = boundary is not null ? new Dictionary<int, Tensor>() : null;
        bool stoppedEarly = false;
        try
        {
            if (trainCache is not null)
            {
                progress?.Report(new PhaseChanged("computing the frozen trunk's features once"));
                FillCache(split.Train, boundary!, trainCache, device, cancellationToken);
            }
            if (validationCache is not null && Views is not null)
            {
                progress?.Report(new PhaseChanged("reading or computing the frozen trunk's features for validation"));
                FillCache(split.Validation, boundary!, validationCache, device, cancellationToken);
            }
            for (int epoch = firstEpoch; epoch <= Options.Epochs; epoch++)
            {
                var epochClock = Stopwatch.StartNew();
                progress?.Report(new PhaseChanged($"training epoch {epoch}/{Options.Epochs}"));
                double trainLoss = TrainEpoch(split.Train, trainGrades, epoch, boundary, optimizer, trainCache, device, progress, cancellationToken);

                progress?.Report(new PhaseChanged($"validating epoch {epoch}/{Options.Epochs}"));
                var (valLoss, evaluated) = Validate(split.Validation, boundary, validationCache, device, cancellationToken);
                var report = EvaluationReport.From(evaluated);
                double metric = Metric(valLoss, report);
                bool improved = double.IsNaN(best) || metric < best;
                if (improved)
                {
                    (best, bestEpoch, stale) = (metric, epoch, 0);
                    SaveWeightsAtomically(bestWeights);
                }
                else
                {
                    stale++;
                }
                history.Add(new EpochSummary(epoch, trainLoss, valLoss, report.QuadraticWeightedKappa, report.Referable.RocAuc,
                    report.Referable.Sensitivity.Value, report.Referable.Specificity.Value, report.Accuracy.Value,
                    epochClock.Elapsed.TotalSeconds));

                Checkpoint.Save(checkpointPath, new CheckpointHeader(epoch, Model.Architecture, Model.Head.ToString(), Options,
                    split.Train.Select(i => i.Id).ToList(), split.Validation.Select(i => i.Id).ToList(), history, best, bestEpoch, stale),
                    Model, optimizer);

                var perEpoch = TimeSpan.FromSeconds(history.Skip(Math.Max(0, history.Count - 3)).Average(h => h.Seconds));
                progress?.Report(new EpochCompleted(epoch, Options.Epochs, trainLoss, valLoss, report, clock.Elapsed,
                    perEpoch * (Options.Epochs - epoch), improved));

                if (Options.EarlyStoppingPatience > 0 && stale >= Options.EarlyStoppingPatience)
                {
                    stoppedEarly = epoch < Options.Epochs;
                    progress?.Report(new PhaseChanged($"stopping early: no improvement for {stale} epoch(s)"));
                    break;
                }
            }

            // Leave the model holding the best epoch, and report that epoch's validation in full.
            LoadWeights(bestWeights);
            var (_, bestImages) = Validate(split.Validation, boundary, validationCache, device, cancellationToken);
            return new TrainingResult(history, bestEpoch, EvaluationReport.From(bestImages), bestImages, split,
                device.ToString(), clock.Elapsed, stoppedEarly);
        }
        finally
        {
            foreach (var t in (trainCache?.Values.AsEnumerable() ?? []).Concat(validationCache?.Values.AsEnumerable() ?? [])) t.Dispose();
        }
    }

    private double TrainEpoch(IReadOnlyList<LabelledImage> train, int[] grades, int epoch, string? boundary, Adam optimizer,
        Dictionary<int, Tensor>? cache, Device device, IProgress<TrainingEvent>? progress, CancellationToken token)
    {
        Model.SetTrainingMode(true);
        var partition = boundary is null ? ((Func<Tensor, Tensor> Prefix, Func<Tensor, Tensor> Suffix)?)null : Model.Partition(boundary);
        int[] order = EpochSampler.Indices(grades, Options.Sampler, Options.SamplerWeights, Options.Seed, epoch, Options.EpochSize);
        if (Options.MaxBatchesPerEpoch > 0)
            order = order.Take(Options.MaxBatchesPerEpoch * Options.BatchSize).ToArray();
        int steps = (order.Length + Options.BatchSize - 1) / Options.BatchSize;
        int updatesPerEpoch = (steps + Options.AccumulationSteps - 1) / Options.AccumulationSteps;
        int update = (epoch - 1) * updatesPerEpoch;
        var decayed = Options.DecoupledWeightDecay && Options.WeightDecay > 0
            ? Model.TrainableParameters().Where(p => p.dim() > 1).ToList()
            : [];
        bool fromCache = cache is not null;
        var views = Views;
        var viewOf = views is null ? null : order.Select((_, position) => Seeds.Mix(Options.Seed, epoch, position, 0x71E3) % Options.ViewsPerImage).ToArray();
        var entries = views is null ? null : order.Select((image, position) => FrozenViewCache.EntryName(ImageKey(train[image]), viewOf![position])).ToArray();
        var batches = views is null
            ? Batches(train, order, fromCache, Options.Augmentation, epoch, token)
            : BatchLoader.Batches(train, order, Options.BatchSize, Preprocessing, Options.Augmentation, Options.Seed, epoch, Options.Loader, token,
                position => views.Contains(entries![position])
                    ? null
                    : FrozenViewCache.Draw(ImageKey(train[order[position]]), viewOf![position], Options.ViewSeed));

        double lossSum = 0;
        int seen = 0, step = 0;
        optimizer.zero_grad();
        double lr = SetLearningRate(optimizer, update, updatesPerEpoch);
        foreach (var batch in batches)
        {
            token.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var targets = tensor(batch.Grades.Select(g => (long)g).ToArray(), device: device);
            Tensor logits = boundary is null
                ? Model.call(Input(batch, device))
                : partition!.Value.Suffix(views is not null
                    ? CachedViews(batch, entries.AsSpan(step * Options.BatchSize, batch.Count), partition.Value.Prefix, views, device)
                    : FrozenFeatures(batch, partition.Value.Prefix, cache, fromCache, device));
            var loss = functional.cross_entropy(logits, targets, label_smoothing: Options.LabelSmoothing);
            (loss / Options.AccumulationSteps).backward();
            step++;
            if (step % Options.AccumulationSteps == 0 || step == steps)
            {
                optimizer.step();
                optimizer.zero_grad();
                if (decayed.Count > 0)
                    using (no_grad())
                        foreach (var p in decayed) p.mul_(1 - lr * Options.WeightDecay);
                lr = SetLearningRate(optimizer, ++update, updatesPerEpoch);
            }
            double value = loss.item<float>();
            lossSum += value * batch.Count;
            seen += batch.Count;
            progress?.Report(new StepCompleted(epoch, step, steps, value));
        }
        return lossSum / Math.Max(1, seen);
    }

    private (double Loss, List<EvaluatedImage> Images) Validate(IReadOnlyList<LabelledImage> validation, string? boundary,
        Dictionary<int, Tensor>? cache, Device device, CancellationToken token)
    {
        Model.SetTrainingMode(false);
        var partition = boundary is null ? ((Func<Tensor, Tensor> Prefix, Func<Tensor, Tensor> Suffix)?)null : Model.Partition(boundary);
        var order = Enumerable.Range(0, validation.Count).ToArray();
        bool fromCache = cache is not null && order.All(cache.ContainsKey);
        var batches = Batches(validation, order, fromCache, AugmentationOptions.None, 0, token);
        double lossSum = 0;
        var results = ModelEvaluator.PredictBatches(batches, validation, batch =>
        {
            Tensor logits = boundary is null
                ? Model.call(Input(batch, device))
                : partition!.Value.Suffix(FrozenFeatures(batch, partition.Value.Prefix, cache, fromCache, device));
            var targets = tensor(batch.Grades.Select(g => (long)g).ToArray(), device: device);
            lossSum += functional.cross_entropy(logits, targets, reduction: Reduction.Sum).item<float>();
            return functional.softmax(logits, 1);
        }, token: token);
        return (lossSum / Math.Max(1, results.Count), results);
    }

    /// <summary>
    /// Batches in epoch order: decoded by the loader, or, when the frozen trunk's output is cached, only the indices
    /// and grades (the pixels are never needed again).
    /// </summary>
    private IEnumerable<Batch> Batches(IReadOnlyList<LabelledImage> images, int[] order, bool fromCache, AugmentationOptions augmentation,
        int epoch, CancellationToken token) =>
        fromCache
            ? order.Chunk(Options.BatchSize).Select(ix => new Batch([], ix.Select(i => images[i].Grade).ToArray(), ix, ix.Length, Preprocessing.InputSize))
            : BatchLoader.Batches(images, order, Options.BatchSize, Preprocessing, augmentation, Options.Seed, epoch, Options.Loader, token);

    /// <summary>
    /// Computes the frozen prefix's output for every image once, without augmentation: from the view cache's plain
    /// views where it has them, and stored there (fp16-rounded, as they are then used) where it does not.
    /// </summary>
    private void FillCache(IReadOnlyList<LabelledImage> images, string boundary, Dictionary<int, Tensor> cache, Device device, CancellationToken token)
    {
        Model.SetTrainingMode(false);
        var prefix = Model.Partition(boundary).Prefix;
        var views = Views;
        if (views is not null)
            for (int i = 0; i < images.Count; i++)
                if (!cache.ContainsKey(i) && views.TryRead(FrozenViewCache.EntryName(ImageKey(images[i]), null)) is { } stored)
                    cache[i] = stored.DetachFromDisposeScope();
        var order = Enumerable.Range(0, images.Count).Where(i => !cache.ContainsKey(i)).ToArray();
        foreach (var batch in BatchLoader.Batches(images, order, Options.BatchSize, Preprocessing, AugmentationOptions.None, Options.Seed, 0, Options.Loader, token))
        {
            using var scope = NewDisposeScope();
            if (views is null)
            {
                FrozenFeatures(batch, prefix, cache, fromCache: false, device);
                continue;
            }
            Tensor features;
            using (no_grad())
                features = prefix(Input(batch, device)).detach();
            for (int k = 0; k < batch.Count; k++)
                cache[batch.ImageIndices[k]] = views.Store(FrozenViewCache.EntryName(ImageKey(images[batch.ImageIndices[k]]), null), features[k])
                    .DetachFromDisposeScope();
        }
    }

    /// <summary>
    /// A training batch's prefix output from cached views: stored ones are read, the others computed from the
    /// loader's pixels (which it prepared only for them) and stored.
    /// </summary>
    private static Tensor CachedViews(Batch batch, ReadOnlySpan<string> entries, Func<Tensor, Tensor> prefix, FrozenViewCache views, Device device)
    {
        var rows = new Tensor[batch.Count];
        var missing = new List<int>();
        for (int k = 0; k < batch.Count; k++)
        {
            if (views.TryRead(entries[k]) is { } stored) rows[k] = stored;
            else missing.Add(k);
        }
        if (missing.Count > 0)
        {
            Tensor computed;
            using (no_grad())
            {
                var pixels = tensor(batch.Pixels, [batch.Count, 3, batch.InputSize, batch.InputSize])
                    .index_select(0, tensor(missing.Select(k => (long)k).ToArray()));
                computed = prefix(pixels.to(device)).detach();
            }
            for (int j = 0; j < missing.Count; j++)
                rows[missing[j]] = views.Store(entries[missing[j]], computed[j]);
        }
        return stack(rows).to(device);
    }

    private readonly Dictionary<string, string> _imageKeys = new(StringComparer.Ordinal);

    private string ImageKey(LabelledImage image)
    {
        lock (_imageKeys)
        {
            if (!_imageKeys.TryGetValue(image.Path, out var key))
                _imageKeys[image.Path] = key = FrozenViewCache.ImageKey(image);
            return key;
        }
    }

    private FrozenViewCache? OpenViewCache(string? boundary, Device device)
    {
        if (Options.ViewsPerImage == 0) return null;
        if (viewCache is null)
            throw new ArgumentException("Cached views need a cache folder (train --view-cache <folder>).");
        if (boundary is null)
            throw new ArgumentException("Cached views need a frozen prefix; the trainable policy trains the first layer already.");
        Model.SetTrainingMode(false);
        long[] shape;
        using (NewDisposeScope())
        using (no_grad())
            shape = Model.Partition(boundary).Prefix(zeros(1, 3, Preprocessing.InputSize, Preprocessing.InputSize, device: device)).shape[1..];
        string key = FrozenViewCache.KeyFor(Model, boundary, Preprocessing, Options.Augmentation, Options.ViewSeed);
        return new FrozenViewCache(viewCache.Directory, key, shape, viewCache.MaxBytes);
    }

    /// <summary>The frozen prefix's output for a batch: from the cache, or computed without a graph (and cached).</summary>
    private static Tensor FrozenFeatures(Batch batch, Func<Tensor, Tensor> prefix, Dictionary<int, Tensor>? cache, bool fromCache, Device device)
    {
        if (fromCache)
            return stack(batch.ImageIndices.Select(i => cache![i]).ToArray()).to(device);
        Tensor features;
        using (no_grad())
            features = prefix(Input(batch, device)).detach();
        if (cache is not null)
            for (int k = 0; k < batch.Count; k++)
                if (!cache.ContainsKey(batch.ImageIndices[k]))
                    cache[batch.ImageIndices[k]] = features[k].cpu().clone().DetachFromDisposeScope();
        return features;
    }

    private static Tensor Input(Batch batch, Device device) =>
        tensor(batch.Pixels, [batch.Count, 3, batch.InputSize, batch.InputSize]).to(device);

    private double Metric(double validationLoss, EvaluationReport report) => Options.StoppingMetric switch
    {
        // Lower is better for all three; NaN (undefined) never counts as an improvement.
        StoppingMetric.ValidationLoss => validationLoss,
        StoppingMetric.Kappa => double.IsNaN(report.QuadraticWeightedKappa) ? double.PositiveInfinity : -report.QuadraticWeightedKappa,
        StoppingMetric.ReferableAuc => double.IsNaN(report.Referable.RocAuc) ? double.PositiveInfinity : -report.Referable.RocAuc,
        _ => validationLoss,
    };

    /// <summary>
    /// The rate for optimiser update <paramref name="update"/> (counted from 0 over the whole run): a linear warm-up,
    /// then constant or a cosine decay to zero at the end of the last epoch.
    /// </summary>
    private double SetLearningRate(Adam optimizer, int update, int updatesPerEpoch)
    {
        int total = Math.Max(1, updatesPerEpoch * Options.Epochs);
        double lr = Options.LearningRate;
        if (Options.Schedule == LrSchedule.Cosine)
        {
            double start = Math.Min(Options.WarmupSteps, total - 1);
            double progress = Math.Clamp((update - start) / Math.Max(1, total - start), 0, 1);
            lr *= 0.5 * (1 + Math.Cos(Math.PI * progress));
        }
        if (update < Options.WarmupSteps)
            lr *= (update + 1.0) / Options.WarmupSteps;
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
        return lr;
    }

    private void CheckSameRun(CheckpointHeader header, DataSplit split)
    {
        if (header.Architecture != Model.Architecture || header.Head != Model.Head.ToString())
            throw new InvalidOperationException($"The checkpoint is of {header.Architecture} ({header.Head} head), not {Model.Architecture} ({Model.Head}).");
        if (!header.ValidationIds.SequenceEqual(split.Validation.Select(i => i.Id)))
            throw new InvalidOperationException("The checkpoint was made on a different validation split (other data, seed or share); start a new run.");
    }

    private void SaveWeightsAtomically(string path)
    {
        string temp = path + ".tmp";
        Model.save(temp);
        File.Move(temp, path, overwrite: true);
    }

    private void LoadWeights(string path)
    {
        if (File.Exists(path)) Model.load(path);
    }
}
