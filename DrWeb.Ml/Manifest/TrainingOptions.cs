using DrWeb.Ml.Data;

namespace DrWeb.Ml.Manifest;

public enum LrSchedule { Constant, Cosine }

public enum StoppingMetric { ValidationLoss, Kappa, ReferableAuc }

/// <summary>Everything that defines a training run. The defaults are the study's.</summary>
public sealed record TrainingOptions
{
    public int Epochs { get; init; } = 10;

    /// <summary>Images per forward pass.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Batches whose gradients are summed before each optimiser step (the paper's 256 = 32 x 8 here).</summary>
    public int AccumulationSteps { get; init; } = 1;

    public double LearningRate { get; init; } = 1e-4;
    public double Beta1 { get; init; } = 0.0;
    public double Beta2 { get; init; } = 0.99;
    public double Epsilon { get; init; } = 1e-8;
    public double WeightDecay { get; init; }

    public LrSchedule Schedule { get; init; } = LrSchedule.Constant;

    /// <summary>Optimiser steps over which the learning rate rises linearly from zero (0 = none).</summary>
    public int WarmupSteps { get; init; }

    /// <summary>
    /// Apply <see cref="WeightDecay"/> to the weights directly after each Adam step (AdamW) rather than through the
    /// gradient, where Adam's scaling would weaken it for exactly the weights that move most.
    /// </summary>
    public bool DecoupledWeightDecay { get; init; }

    /// <summary>Cross-entropy against (1 - s) on the true grade and s spread evenly over all grades.</summary>
    public double LabelSmoothing { get; init; }

    public SamplerKind Sampler { get; init; } = SamplerKind.Weighted;
    public double[] SamplerWeights { get; init; } = EpochSampler.PaperWeights;

    public AugmentationOptions Augmentation { get; init; } = new();

    /// <summary>Share of patients held out for validation.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    public int Seed { get; init; } = 42;

    /// <summary>
    /// Seed of the patient split (validation and held-out test); null uses <see cref="Seed"/>. Members of an ensemble
    /// train with different seeds on one split, so that its validation images are unseen by every member.
    /// </summary>
    public int? SplitSeed { get; init; }

    /// <summary>The seed the patient split is drawn with.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int EffectiveSplitSeed => SplitSeed ?? Seed;

    /// <summary>
    /// Start a fresh run from a head initialised from <see cref="Seed"/> (the usual transfer-learning start). Turn it
    /// off to continue training a head that is already trained.
    /// </summary>
    public bool InitialiseHead { get; init; } = true;

    /// <summary>Stop after this many epochs without improvement of <see cref="StoppingMetric"/>; 0 never stops early.</summary>
    public int EarlyStoppingPatience { get; init; }

    public StoppingMetric StoppingMetric { get; init; } = StoppingMetric.ValidationLoss;

    /// <summary>Trainable-layer policy: <c>paper</c>, <c>head</c>, <c>all</c> or prefixes.</summary>
    public string Trainable { get; init; } = "paper";

    /// <summary>
    /// Keep the frozen trunk's output in memory after the first epoch instead of recomputing it. Only allowed without
    /// augmentation, because augmented images differ every epoch.
    /// </summary>
    public bool CacheFrozenFeatures { get; init; }

    /// <summary>
    /// Augmented views kept per training image by a <see cref="FrozenViewCache"/> (0 = none: every draw is augmented
    /// afresh and runs the whole network). With K views, each draw picks one of the image's K views, so later epochs
    /// cost only the trained layers while still seeing different augmentations.
    /// </summary>
    public int ViewsPerImage { get; init; }

    /// <summary>
    /// Seed of the cached views' augmentations. Separate from <see cref="Seed"/>, so that runs that differ only in
    /// their seed (ensemble members) share one cache.
    /// </summary>
    public int ViewSeed { get; init; } = 1;

    /// <summary>
    /// Images drawn per epoch by a sampler that draws with replacement (0 = as many as there are training images).
    /// Shorter epochs validate, checkpoint and pick the best model more often on a large union.
    /// </summary>
    public int EpochSize { get; init; }

    /// <summary>Stop each epoch after this many batches (for smoke tests and benchmarks); 0 = the whole epoch.</summary>
    public int MaxBatchesPerEpoch { get; init; }

    public LoaderOptions Loader { get; init; } = new();

    /// <summary>Throws with every problem at once when <see cref="Problems"/> finds any.</summary>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0)
            throw new ArgumentException("Invalid training options: " + string.Join("; ", problems) + ".");
    }

    /// <summary>
    /// The one check of a run's training options, in words (lower case, no full stop); the page, the API, the command
    /// line and recurring schedules all come here.
    /// </summary>
    public List<string> Problems()
    {
        var problems = new List<string>();
        if (Epochs < 1) problems.Add("epochs must be at least 1");
        if (BatchSize < 1) problems.Add("batch size must be at least 1");
        if (AccumulationSteps < 1) problems.Add("accumulation steps must be at least 1");
        if (LearningRate is <= 0 or > 1) problems.Add("learning rate must be in (0, 1]");
        if (Beta1 is < 0 or >= 1 || Beta2 is < 0 or >= 1) problems.Add("Adam betas must be in [0, 1)");
        if (Epsilon <= 0) problems.Add("epsilon must be positive");
        if (WeightDecay < 0) problems.Add("weight decay must not be negative");
        if (EpochSize < 0) problems.Add("epoch size must not be negative");
        if (EpochSize > 0 && Sampler == SamplerKind.Shuffle) problems.Add("an epoch size needs a sampler that draws with replacement (paper, auto or sqrt)");
        if (WarmupSteps < 0) problems.Add("warm-up steps must not be negative");
        if (LabelSmoothing is < 0 or >= 1) problems.Add("label smoothing must be in [0, 1)");
        if (ValidationFraction is <= 0 or >= 1) problems.Add("validation fraction must be between 0 and 1");
        if (SamplerWeights.Length != 5 || SamplerWeights.Any(w => w < 0)) problems.Add("sampler weights need five non-negative numbers");
        if (CacheFrozenFeatures && Augmentation.Enabled) problems.Add("frozen features can only be cached with augmentation off");
        if (ViewsPerImage < 0) problems.Add("views per image must not be negative");
        if (ViewsPerImage > 0 && !Augmentation.Enabled) problems.Add("cached views need augmentation on (without it, cache the frozen features instead)");
        if (EarlyStoppingPatience < 0) problems.Add("patience must be 0 (off) or more");
        problems.AddRange(Augmentation.Problems());
        return problems;
    }
}
