namespace DrWeb.Ml.Onnx;

/// <summary>
/// The ONNX files that the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 copies beside the app: CNTK's
/// ImageNet ResNet18 and the graph that prepares its input (a BGR mean image).
/// </summary>
public static class BundledOnnx
{
    public const string ResNet18FileName = "ResNet18.onnx";
    public const string PreprocessFileName = "ResNetPreprocess.onnx";

    /// <summary>Locates the bundled ONNX files (copied beside the app by the NuGet package's build props).</summary>
    public static string File(string fileName)
    {
        string[] folders = [Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx"),
                            Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNetPrepOnnx")];
        return folders.Select(f => Path.Combine(f, fileName)).FirstOrDefault(System.IO.File.Exists)
               ?? throw new FileNotFoundException(
                   $"{fileName} was expected under {Path.Combine(AppContext.BaseDirectory, "DnnImageModels")}. It comes with the " +
                   "NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1, which DrWeb.Ml references; run 'dotnet build' again.", fileName);
    }
}
