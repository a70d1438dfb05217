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

    public string ResolveDataFolder() => Path.GetFullPath(DataFolder);
}
