using SixLabors.ImageSharp;

namespace DrWeb.Ml.Data;

/// <summary>The folder layouts DrWeb reads.</summary>
public enum DatasetLayout
{
    /// <summary>Kaggle EyePACS: <c>trainLabels.csv</c> (image,level) and <c>&lt;image&gt;.jpeg</c>.</summary>
    KaggleEyePacs,

    /// <summary>APTOS 2019: <c>train.csv</c> (id_code,diagnosis) and <c>&lt;id_code&gt;.png</c>.</summary>
    Aptos,

    /// <summary>Subfolders <c>0</c>..<c>4</c> or <c>No_DR</c>, <c>Mild</c>, <c>Moderate</c>, <c>Severe</c>, <c>Proliferate_DR</c>.</summary>
    FolderPerGrade,

    /// <summary>A CSV with header <c>image,grade</c>; image is a file name (with or without extension).</summary>
    ImageGradeCsv,
}

public sealed class DatasetReadOptions
{
    /// <summary>Drop bad rows and carry on; otherwise any problem stops the read. The report counts what was dropped.</summary>
    public bool SkipBadRows { get; set; }

    /// <summary>Read each image's header to catch unreadable files before training starts.</summary>
    public bool CheckImagesReadable { get; set; } = true;

    public PatientIdRule PatientIds { get; set; } = new();
}

/// <summary>A dataset read and validated.</summary>
public sealed record Dataset(DatasetLayout Layout, string Folder, IReadOnlyList<LabelledImage> Images, DatasetValidationReport Report)
{
    /// <summary>Images per grade 0..4.</summary>
    public int[] GradeCounts => Enumerable.Range(0, 5).Select(g => Images.Count(i => i.Grade == g)).ToArray();

    /// <summary>A short, order-independent fingerprint of (image id, grade) pairs, for model manifests.</summary>
    public string Fingerprint()
    {
        var lines = Images.Select(i => $"{i.Id},{i.Grade}").Order(StringComparer.Ordinal);
        byte[] hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", lines)));
        return Convert.ToHexString(hash)[..16].ToLowerInvariant();
    }
}

/// <summary>Detects a folder's layout, reads its labels and checks every row before any training.</summary>
public static class DatasetReader
{
    private static readonly string[] ImageExtensions = [".jpeg", ".jpg", ".png", ".tif", ".tiff", ".bmp", ".webp"];

    private static readonly Dictionary<string, int> GradeFolderNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["0"] = 0, ["1"] = 1, ["2"] = 2, ["3"] = 3, ["4"] = 4,
        ["No_DR"] = 0, ["Mild"] = 1, ["Moderate"] = 2, ["Severe"] = 3, ["Proliferate_DR"] = 4,
    };

    public static DatasetLayout? Detect(string folder)
    {
        if (!Directory.Exists(folder)) return null;
        if (File.Exists(Path.Combine(folder, "trainLabels.csv"))) return DatasetLayout.KaggleEyePacs;
        if (File.Exists(Path.Combine(folder, "train.csv"))) return DatasetLayout.Aptos;
        if (FindImageGradeCsv(folder) is not null) return DatasetLayout.ImageGradeCsv;
        if (Directory.EnumerateDirectories(folder).Any(d => GradeFolderNames.ContainsKey(Path.GetFileName(d))))
            return DatasetLayout.FolderPerGrade;
        return null;
    }

    /// <summary>Reads and validates; throws <see cref="DatasetException"/> when the dataset cannot be used as asked.</summary>
    public static Dataset Read(string folder, DatasetReadOptions? options = null)
    {
        var report = Validate(folder, options, out var images);
        options ??= new DatasetReadOptions();
        if (report.IsFatal)
            throw new DatasetException(report, "Fix the dataset folder and try again.");
        if (report.Problems.Count > 0 && !options.SkipBadRows)
            throw new DatasetException(report, "Fix these rows, or read with 'skip bad rows' to drop them and carry on.");
        return new Dataset(report.Layout!.Value, Path.GetFullPath(folder), images, report);
    }

    /// <summary>Reads every row and reports every problem, without throwing.</summary>
    public static DatasetValidationReport Validate(string folder, DatasetReadOptions? options, out List<LabelledImage> images)
    {
        options ??= new DatasetReadOptions();
        folder = Path.GetFullPath(folder);
        images = [];
        var problems = new List<DatasetProblem>();
        if (!Directory.Exists(folder))
        {
            problems.Add(new DatasetProblem(DatasetProblemKind.UnknownLayout, $"No such folder: {folder}."));
            return new DatasetValidationReport(folder, null, null, 0, 0, problems);
        }
        var layout = Detect(folder);
        if (layout is null)
        {
            problems.Add(new DatasetProblem(DatasetProblemKind.UnknownLayout,
                "No known layout: expected trainLabels.csv (Kaggle), train.csv (APTOS), a CSV with header image,grade, " +
                "or subfolders 0..4 / No_DR, Mild, Moderate, Severe, Proliferate_DR."));
            return new DatasetValidationReport(folder, null, null, 0, 0, problems);
        }

        var rows = new List<(int? Row, string Id, string? File, string GradeText)>();
        string? labels = null;
        switch (layout)
        {
            case DatasetLayout.KaggleEyePacs:
                labels = Path.Combine(folder, "trainLabels.csv");
                rows = ReadCsv(labels, ["image", "level"], problems);
                break;
            case DatasetLayout.Aptos:
                labels = Path.Combine(folder, "train.csv");
                rows = ReadCsv(labels, ["id_code", "diagnosis"], problems);
                break;
            case DatasetLayout.ImageGradeCsv:
                labels = FindImageGradeCsv(folder)!;
                rows = ReadCsv(labels, ["image", "grade"], problems);
                break;
            case DatasetLayout.FolderPerGrade:
                foreach (var dir in Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal))
                {
                    if (!GradeFolderNames.TryGetValue(Path.GetFileName(dir), out int grade)) continue;
                    foreach (var file in Directory.EnumerateFiles(dir).Where(IsImageFile).Order(StringComparer.Ordinal))
                        rows.Add((null, Path.GetFileNameWithoutExtension(file), file, grade.ToString()));
                }
                break;
        }

        string[] searchFolders = [folder, Path.Combine(folder, "images"), Path.Combine(folder, "train"), Path.Combine(folder, "train_images")];
        var index = searchFolders.Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d).Where(IsImageFile))
            .GroupBy(f => Path.GetFileNameWithoutExtension(f), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

        var origins = ImageSources.Read(folder);
        var seen = new Dictionary<string, int?>(StringComparer.Ordinal);
        foreach (var (row, rawId, knownFile, gradeText) in rows)
        {
            string id = StripImageExtension(rawId.Trim());
            if (!int.TryParse(gradeText.Trim(), out int grade) || grade is < 0 or > 4)
            {
                problems.Add(new DatasetProblem(DatasetProblemKind.UnknownGrade, $"grade '{gradeText}' is not 0-4.", row, id));
                continue;
            }
            if (seen.TryGetValue(id, out var firstRow))
            {
                problems.Add(new DatasetProblem(DatasetProblemKind.Duplicate,
                    $"image listed again (first at {(firstRow is null ? "another folder" : $"row {firstRow}")}).", row, id));
                continue;
            }
            seen[id] = row;
            string? file = knownFile ?? (index.TryGetValue(id, out var f) ? f : null);
            if (file is null)
            {
                problems.Add(new DatasetProblem(DatasetProblemKind.MissingImage, "no image file with this name.", row, id));
                continue;
            }
            if (options.CheckImagesReadable && !Readable(file, out string why))
            {
                problems.Add(new DatasetProblem(DatasetProblemKind.UnreadableImage, why, row, Path.GetFileName(file)));
                continue;
            }
            images.Add(new LabelledImage(file, id, grade, options.PatientIds.PatientOf(id), origins.SourceOf(id, Path.GetFileName(file))));
        }
        if (rows.Count == 0 && !problems.Any(p => p.Kind == DatasetProblemKind.WrongHeader))
            problems.Add(new DatasetProblem(DatasetProblemKind.EmptyDataset, "the dataset has no images.", null, labels));
        return new DatasetValidationReport(folder, layout, labels, rows.Count, images.Count, problems);
    }

    private static string? FindImageGradeCsv(string folder) =>
        Directory.EnumerateFiles(folder, "*.csv").Order(StringComparer.Ordinal)
            .FirstOrDefault(f => HeaderOf(f) is ["image", "grade", ..]);

    private static string[]? HeaderOf(string csv)
    {
        using var reader = new StreamReader(csv);
        string? line = reader.ReadLine();
        return line?.TrimStart('\uFEFF').Split(',').Select(h => h.Trim().ToLowerInvariant()).ToArray();
    }

    private static List<(int? Row, string Id, string? File, string GradeText)> ReadCsv(string path, string[] header, List<DatasetProblem> problems)
    {
        var rows = new List<(int?, string, string?, string)>();
        string[] lines = File.ReadAllLines(path);
        string[]? actual = lines.Length == 0 ? null : lines[0].TrimStart('\uFEFF').Split(',').Select(h => h.Trim().ToLowerInvariant()).ToArray();
        if (actual is null || actual.Length < 2 || actual[0] != header[0] || actual[1] != header[1])
        {
            problems.Add(new DatasetProblem(DatasetProblemKind.WrongHeader,
                $"header is '{(lines.Length == 0 ? "" : lines[0])}', expected '{string.Join(",", header)}'.", 1, Path.GetFileName(path)));
            return rows;
        }
        for (int i = 1; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            string[] cells = lines[i].Split(',');
            rows.Add((i + 1, cells[0], null, cells.Length > 1 ? cells[1] : ""));
        }
        return rows;
    }

    private static bool Readable(string file, out string why)
    {
        try
        {
            var info = Image.Identify(file, out var format);
            why = info is null ? "not an image." : "";
            if (info is null || info.Width <= 0 || info.Height <= 0) return false;
            if (format is not null && Imaging.ImageDecoder.LooksTruncated(format, file))
            {
                why = $"is cut off: the {format.Name} data ends before the image does.";
                return false;
            }
            return true;
        }
        catch (Exception e) when (e is ImageFormatException or NotSupportedException or IOException or InvalidOperationException)
        {
            why = $"cannot be read as an image ({e.Message}).";
            return false;
        }
    }

    private static bool IsImageFile(string path) => ImageExtensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    private static string StripImageExtension(string id) => IsImageFile(id) ? Path.GetFileNameWithoutExtension(id) : id;
}
