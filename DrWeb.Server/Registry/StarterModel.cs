using DrWeb.Ml.Architectures;
using DrWeb.Ml.Manifest;

namespace DrWeb.Server.Registry;

/// <summary>
/// The demonstration model that ships beside the app (models/screening-resnet18). It is what the app grades with until
/// an admin activates another model; its manifest's label ("demonstration model, not for clinical use") goes with it.
/// </summary>
public sealed class StarterModel
{
    public StarterModel() : this(Path.Combine(AppContext.BaseDirectory, "models", "screening-resnet18")) { }

    public StarterModel(string folder)
    {
        Folder = folder;
        try
        {
            Manifest = ModelDirectory.IsModelDirectory(folder) ? ModelDirectory.ReadManifest(folder) : null;
            Problem = Manifest is null ? $"No starter model at {folder}: train one or import one." : null;
        }
        catch (CheckpointException e)
        {
            Problem = e.Message;
        }
    }

    public string Folder { get; }
    public ModelManifest? Manifest { get; }

    /// <summary>Why there is no usable starter model, or null.</summary>
    public string? Problem { get; }
}
