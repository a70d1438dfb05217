using DrWeb.Ml.Imaging;
using DrWeb.Ml.Torch;

namespace DrWeb.Server.Hosting;

/// <summary>Settings under the <c>DrWeb</c> section of appsettings.json (or DRWEB__* environment variables).</summary>
public sealed class DrWebOptions
{
    public const string Section = "DrWeb";

    /// <summary>
    /// Everything the app writes lives here: database, uploads, heatmaps, checkpoints, models. Relative paths are
    /// resolved against the folder the app was started from (never the build output). Deleting the folder resets the app.
    /// </summary>
    public string DataFolder { get; set; } = "data";

    public TorchOptions Torch { get; set; } = new();

    public ImageDecodeOptions Images { get; set; } = new();

    public ScreeningOptions Screening { get; set; } = new();

    public string ResolveDataFolder() => Path.GetFullPath(DataFolder);
}

public sealed class ScreeningOptions
{
    /// <summary>Largest accepted upload, checked on the server before anything is decoded.</summary>
    public long MaxUploadBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>Gradings that run at once. One suits 2 cores: parallel torch work only splits the same cores.</summary>
    public int Concurrency { get; set; } = 1;

    /// <summary>Gradings allowed to wait; further requests are refused with "busy, try again".</summary>
    public int MaxQueue { get; set; } = 64;

    /// <summary>Largest model or checkpoint file an admin may upload to the registry (VGG16's ImageNet file is 528 MB).</summary>
    public long MaxModelUploadBytes { get; set; } = 1024L * 1024 * 1024;
}
