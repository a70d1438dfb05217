using DrWeb.Ml.Architectures;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Manifest;
using DrWeb.Ml.Onnx;

namespace DrWeb.Tests.Support;

/// <summary>
/// Small model folders for ensemble tests: the bundled ResNet18 with layer4 and the head stored (int8), each member's
/// head initialised from its own seed so that members disagree, all on one recorded split.
/// </summary>
public static class EnsembleFolders
{
    public static readonly Preprocessing Preprocessing = Preprocessing.BgrMeanImage224 with { CropFundus = true, Recipe = ColourRecipe.Clahe };

    public static string Member(string parent, int seed, IReadOnlyList<string>? validationIds = null)
    {
        string folder = Path.Combine(parent, $"member-{seed}");
        using var model = CntkResNet18.Pretrained();
        model.InitialiseHead(seed);
        var policy = TrainablePolicy.Parse("layer4,fc", model);
        model.ApplyTrainablePolicy(policy);
        var manifest = new ModelManifest
        {
            Architecture = model.Architecture, Head = model.Head, TrainablePolicy = policy.Name, TrainablePrefixes = policy.Prefixes,
            Preprocessing = Preprocessing, BaseWeights = "bundled:" + BundledOnnx.ResNet18FileName, Label = "ensemble test member",
            Training = new TrainingOptions { Seed = seed }, ValidationIds = validationIds ?? ["a", "b", "c"], TestIds = ["d"],
        };
        ModelDirectory.Save(folder, model, manifest, trainedOnly: true, int8Weights: true);
        return folder;
    }

    /// <summary>An ensemble folder of <paramref name="members"/> seeds, saved as DrWeb saves one (without calibration).</summary>
    public static string Ensemble(string parent, params int[] members)
    {
        var folders = members.Select(s => Member(parent, s)).ToList();
        string folder = Path.Combine(parent, "ensemble");
        var (model, manifest) = EnsembleJoin.Join(folders, "ensemble test model");
        using (model)
            ModelDirectory.Save(folder, model, manifest, trainedOnly: true, int8Weights: true);
        return folder;
    }
}
