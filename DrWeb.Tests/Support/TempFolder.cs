namespace DrWeb.Tests.Support;

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
