using DrWeb.Ml.Manifest;
using DrWeb.Ml.Onnx;

namespace DrWeb.Ml.Architectures;

/// <summary>Builds a classifier by architecture name.</summary>
public static class ModelFactory
{
    public static readonly IReadOnlyList<string> Architectures = ["resnet18", "densenet121", "resnet101", "vgg16"];

    public static FundusClassifier Create(string architecture, HeadKind head = HeadKind.Paper, int numClasses = 5) =>
        architecture.Trim().ToLowerInvariant() switch
        {
            "densenet121" => new DenseNet121(head, numClasses),
            "resnet18" => new CntkResNet18(head, numClasses),
            "resnet101" => new ResNet101(head, numClasses),
            "vgg16" => new Vgg16(head, numClasses),
            _ => throw new ArgumentException(
                $"Unknown architecture '{architecture}'. Available: {string.Join(", ", Architectures)}."),
        };

    /// <summary>
    /// The input preparation an architecture's ImageNet weights expect, with the fundus crop and colour recipe a new
    /// model is trained with (both recorded in its manifest).
    /// </summary>
    public static Imaging.Preprocessing PreprocessingFor(FundusClassifier model, bool cropFundus = false,
        Imaging.ColourRecipe recipe = Imaging.ColourRecipe.None) =>
        (model is CntkResNet18 ? Imaging.Preprocessing.BgrMeanImage224 : Imaging.Preprocessing.ImageNet224)
        with { CropFundus = cropFundus, Recipe = recipe };

    /// <summary>
    /// A model ready for fine-tuning: ResNet18 from its bundled ImageNet weights when no file is given, any other
    /// architecture from a torchvision ImageNet checkpoint (its 1000-class classifier left out).
    /// </summary>
    /// <returns>The model, what its manifest should name as base weights when they are not stored with it, and a line for the log.</returns>
    public static (FundusClassifier Model, string? BundledBase, string Description) CreateForFineTuning(
        string architecture, HeadKind head, string? imagenetWeights)
    {
        string arch = architecture.Trim().ToLowerInvariant();
        if (arch == "resnet18" && imagenetWeights is null)
            return (CntkResNet18.Pretrained(head), "bundled:" + BundledOnnx.ResNet18FileName, "ImageNet weights bundled with DrWeb");
        if (imagenetWeights is null)
            throw new ArgumentException($"{arch} needs ImageNet weights: import a checkpoint (e.g. torchvision's densenet121-a639ec97.pth) " +
                                        "or pass --weights <file>. DrWeb never downloads weights; resnet18 trains from the bundled ones.");
        var model = Create(arch, head);
        try
        {
            var report = CheckpointImporter.Load(model, imagenetWeights, skipMismatchedClassifier: true);
            return (model, null, $"{report.LoadedKeys} tensors from {Path.GetFileName(imagenetWeights)} ({report.RenamedLegacyKeys} legacy names renamed, head {(report.SkippedClassifierKeys.Count > 0 ? "replaced" : "loaded")})");
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
