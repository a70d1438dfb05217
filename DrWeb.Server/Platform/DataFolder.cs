using Microsoft.Extensions.Options;

namespace DrWeb.Server.Platform;

/// <summary>The one folder the app writes to: database, images, overlays, models. Deleting it resets the app.</summary>
public sealed class DataFolder
{
    public DataFolder(IOptions<DrWebOptions> options)
    {
        Root = options.Value.ResolveDataFolder();
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string DatabasePath => Path.Combine(Root, "drweb.db");

    public string Sub(string name)
    {
        string path = Path.Combine(Root, name);
        Directory.CreateDirectory(path);
        return path;
    }
}
