namespace DrWeb.Ml.Data;

/// <summary>
/// Where each image of a dataset folder comes from. A folder is one source, named after the folder, unless it has a
/// <c>sources.csv</c> (header <c>image,...,dataset,repository,...</c>) that names each image's origin: then the source is
/// <c>folder/dataset (repository owner)</c>, so that a folder mixing EyePACS and APTOS is reported per population.
/// </summary>
public sealed class ImageSources
{
    public const string FileName = "sources.csv";

    private readonly string _folderName;
    private readonly Dictionary<string, string> _byImage;

    private ImageSources(string folderName, Dictionary<string, string> byImage) => (_folderName, _byImage) = (folderName, byImage);

    public static ImageSources Read(string folder)
    {
        string name = Path.GetFileName(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar));
        var byImage = new Dictionary<string, string>(StringComparer.Ordinal);
        string csv = Path.Combine(folder, FileName);
        if (!File.Exists(csv)) return new ImageSources(name, byImage);
        using var reader = new StreamReader(csv);
        string[] header = (reader.ReadLine() ?? "").TrimStart('\uFEFF').Split(',').Select(h => h.Trim().ToLowerInvariant()).ToArray();
        int image = Array.IndexOf(header, "image"), dataset = Array.IndexOf(header, "dataset"), repository = Array.IndexOf(header, "repository");
        if (image < 0 || dataset < 0) return new ImageSources(name, byImage);
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            string[] cells = line.Split(',');
            if (cells.Length <= Math.Max(image, Math.Max(dataset, repository))) continue;
            string origin = cells[dataset].Trim();
            int paren = origin.IndexOf(" (", StringComparison.Ordinal);
            if (paren > 0) origin = origin[..paren];
            if (repository >= 0 && cells[repository].Contains('/'))
                origin += $" ({cells[repository].Split('/')[0].Trim()})";
            byImage[cells[image].Trim()] = $"{name}/{origin}";
        }
        return new ImageSources(name, byImage);
    }

    /// <summary>The source of an image, looked up by its file name or id; the folder's name when the image is not listed.</summary>
    public string SourceOf(string id, string fileName) =>
        _byImage.TryGetValue(fileName, out var s) || _byImage.TryGetValue(id, out s) ? s : _folderName;
}
