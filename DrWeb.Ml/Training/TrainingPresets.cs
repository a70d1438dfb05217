using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Manifest;

namespace DrWeb.Ml.Training;

/// <summary>A named starting point for a run: the optimiser and sampling options plus the preprocessing.</summary>
public sealed record TrainingPreset(string Name, string Description, TrainingOptions Options, bool CropFundus, ColourRecipe Recipe, string Head)
{
    /// <summary>
    /// The study's recipe: Adam (lr 1e-4, betas (0, 0.99)), its weighted sampler and augmentations, the architecture's
    /// last block(s) and the seven-Linear head, the whole frame without colour normalisation.
    /// </summary>
    public static readonly TrainingPreset Paper = new("paper",
        "the study's recipe: Adam lr 1e-4, betas (0, 0.99), weighted sampler 0.1/1/0.5/3/4, the last block(s) and the seven-Linear head",
        new TrainingOptions(), CropFundus: false, ColourRecipe.None, Head: "paper");

    /// <summary>
    /// DrWeb's default for screening on two CPU cores: the bundled ResNet18's layer3, layer4 and head fine-tuned
    /// (deeper than the study, because ImageNet's mid-level features do not describe microaneurysms), AdamW with a
    /// warm-up and cosine decay, light label smoothing, square-root class balancing and short epochs of 4,000 draws
    /// judged by referable AUC; every photograph cropped to its fundus and CLAHE-normalised.
    /// </summary>
    public static readonly TrainingPreset Screening = new("screening",
        "layer3 + layer4 + head, AdamW lr 2e-4 (betas 0.9, 0.999, decay 0.01), 100 warm-up steps then cosine, label smoothing 0.05, " +
        "sqrt-inverse-frequency sampler, 3 epochs of 4,000 draws at batch 16, best epoch by referable AUC, crop + CLAHE",
        new TrainingOptions
        {
            Epochs = 3, BatchSize = 16, LearningRate = 2e-4, Beta1 = 0.9, Beta2 = 0.999, WeightDecay = 0.01, DecoupledWeightDecay = true,
            Schedule = LrSchedule.Cosine, WarmupSteps = 100, LabelSmoothing = 0.05, Sampler = SamplerKind.SquareRootInverseFrequency,
            EpochSize = 4000, StoppingMetric = StoppingMetric.ReferableAuc, Trainable = "layer3,layer4,fc",
        },
        CropFundus: true, ColourRecipe.Clahe, Head: "paper");

    public static readonly IReadOnlyList<TrainingPreset> All = [Screening, Paper];

    /// <summary>The preset new runs start from.</summary>
    public static TrainingPreset Default => Screening;

    public static TrainingPreset Parse(string name) =>
        All.FirstOrDefault(p => p.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? (name.Trim().Equals("default", StringComparison.OrdinalIgnoreCase) ? Default
            : throw new ArgumentException($"Unknown preset '{name}'. Use {string.Join(", ", All.Select(p => p.Name))}."));
}
