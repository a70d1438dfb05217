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
