using DrWeb.Ml.Architectures;

namespace DrWeb.Tests.Support;

/// <summary>The default model that ships beside the app and that a test host grades with.</summary>
public static class ShippedModel
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "models", "screening-resnet18");

    /// <summary>The side of the square view it grades, so that tests follow the model rather than a number.</summary>
    public static int InputSize => ModelDirectory.ReadManifest(Folder).Preprocessing.InputSize;
}
