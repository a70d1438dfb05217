namespace DrWeb.Tests.Support;

/// <summary>Locates the repository and the read-only <c>../shared</c> folder beside it (real images, PyTorch references).</summary>
public static class SharedData
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string SharedRoot
    {
        get
        {
            string path = Environment.GetEnvironmentVariable("DRWEB_SHARED") ?? Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
            if (!Directory.Exists(path))
                throw new DirectoryNotFoundException(
                    $"The shared data folder was expected at {path}. Clone DrWeb beside it, or set DRWEB_SHARED to its location.");
            return path;
        }
    }

    public static string ReferenceDir => Path.Combine(SharedRoot, "reference", "densenet121-paper-head");
    public static string FundusDevImages => Path.Combine(SharedRoot, "data", "fundus-dev", "images");
    public static string FundusRawImages => Path.Combine(SharedRoot, "data", "fundus-raw-dev", "images");

    public static string FundusDevImage(string name = "10007_left.jpeg") => Path.Combine(FundusDevImages, name);

    /// <summary>A scratch folder under the test output, removed by the caller's using.</summary>
    public static TempFolder TempFolder() => new();

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DrWeb.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("DrWeb.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>
/// A temporary folder removed on dispose, SQLite's pooled handles released first. Folders that a killed test run left
/// behind are swept once per run when they are more than a day old.
/// </summary>
public sealed class TempFolder : IDisposable
{
    private const string Prefix = "drweb-test-";
    private static int s_swept;

    public TempFolder()
    {
        if (Interlocked.Exchange(ref s_swept, 1) == 0) SweepStale();
        Path = Directory.CreateTempSubdirectory(Prefix).FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        for (int attempt = 0; attempt < 5 && Directory.Exists(Path); attempt++)
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A pooled SQLite connection or a server process still closing may hold a file for a moment.
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                Thread.Sleep(200);
            }
        }
    }

    private static void SweepStale()
    {
        foreach (var folder in new DirectoryInfo(System.IO.Path.GetTempPath()).EnumerateDirectories(Prefix + "*"))
        {
            if (folder.LastWriteTimeUtc > DateTime.UtcNow.AddDays(-1)) continue;
            try { folder.Delete(recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }
}
