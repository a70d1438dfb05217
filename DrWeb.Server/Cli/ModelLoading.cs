using DrWeb.Ml.Architectures;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Inference;

namespace DrWeb.Server.Cli;

/// <summary>Builds the model a command names: a DrWeb model folder, or an architecture plus a weights file.</summary>
internal static class ModelLoading
{
    public static (FundusClassifier Model, Preprocessing Preprocessing, ReferralPolicy Referral, bool FlipAverage, string Description) Load(
        string? modelDirectory, string? weights, string arch, string head)
    {
        if (modelDirectory is not null)
        {
            var (model, manifest) = ModelDirectory.Load(modelDirectory);
            string label = manifest.Label is null ? "" : $" [{manifest.Label}]";
            return (model, manifest.Preprocessing, ReferralPolicy.From(manifest), manifest.TestTimeFlip, $"{manifest.Architecture} ({manifest.Head} head) from {Path.GetFullPath(modelDirectory)}{label}");
        }
        if (weights is null)
            throw new ArgumentException("Give either --model <model folder> or --weights <checkpoint>.");
        var built = ModelFactory.Create(arch, Heads.Parse(head));
        var report = CheckpointImporter.Load(built, weights);
        return (built, ModelFactory.PreprocessingFor(built), ReferralPolicy.ArgmaxGrade, false, $"{arch} ({head} head), {report.LoadedKeys} tensors from {Path.GetFileName(weights)}");
    }
}
