using System.IO.Compression;
using DrWeb.Ml.Data;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Training;

/// <summary>A dataset action's outcome: the validation report when the folder could be read, or why not.</summary>
public sealed record DatasetResult(bool Succeeded, string Message, string? Report, TrainingDataset? Dataset);

/// <summary>
/// Labelled image folders that training can use: registered by path (only inside configured roots) or uploaded as a
/// zip, which is unpacked entry by entry with limits on size, count, ratio and paths. Each goes through layout
/// detection and the dataset validation report before it is kept.
/// </summary>
public sealed class TrainingDatasets(IDbContextFactory<DrWebDbContext> dbFactory, DataFolder data, IOptions<DrWebOptions> options,
    ILogger<TrainingDatasets> logger)
{
    private readonly TrainingJobOptions _options = options.Value.Training;

    public string UploadFolder => data.Sub("datasets");

    /// <summary>The folders datasets may be registered from, as full paths.</summary>
    public IReadOnlyList<string> Roots =>
        [UploadFolder, .. _options.DatasetRoots.Where(r => !string.IsNullOrWhiteSpace(r)).Select(r => Path.GetFullPath(r, data.Root))];

    public async Task<List<TrainingDataset>> ListAsync(CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        return await db.TrainingDatasets.AsNoTracking().OrderByDescending(d => d.RegisteredUtc).ToListAsync(token);
    }

    /// <summary>Registers a folder on the server after reading and validating it.</summary>
    public async Task<DatasetResult> RegisterFolderAsync(string path, string? name, CancellationToken token = default)
    {
        if (string.IsNullOrWhiteSpace(path))
            return new(false, "Give the folder's path on the server.", null, null);
        string full;
        try
        {
            full = Path.GetFullPath(path.Trim());
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return new(false, $"'{path}' is not a valid path.", null, null);
        }
        if (!Roots.Any(root => IsInside(full, root)))
            return new(false, $"{full} is outside the folders datasets may come from ({string.Join(", ", Roots)}). " +
                              "Copy it under one of them, or add its parent to DrWeb:Training:DatasetRoots.", null, null);
        if (ResolvesOutside(full))
            return new(false, $"{full} links to a place outside the allowed folders.", null, null);
        if (!Directory.Exists(full))
            return new(false, $"There is no folder {full}.", null, null);
        return await RegisterAsync(full, string.IsNullOrWhiteSpace(name) ? Path.GetFileName(full.TrimEnd('/')) : name.Trim(), uploaded: false, token);
    }

    /// <summary>Unpacks an uploaded zip into the data folder and registers it. Nothing is kept if anything is wrong.</summary>
    public async Task<DatasetResult> RegisterZipAsync(Stream zip, string fileName, string? name, CancellationToken token = default)
    {
        string target = Path.Combine(UploadFolder, $"{Slug(Path.GetFileNameWithoutExtension(fileName))}-{Guid.NewGuid().ToString("N")[..8]}");
        string staging = Path.Combine(UploadFolder, ".incoming-" + Guid.NewGuid().ToString("N"));
        string zipCopy = staging + ".zip";
        try
        {
            await using (var copy = File.Create(zipCopy))
            {
                var buffer = new byte[1 << 20];
                long total = 0;
                int read;
                while ((read = await zip.ReadAsync(buffer, token)) > 0)
                {
                    total += read;
                    if (total > _options.MaxZipBytes)
                        return new(false, $"{fileName} is larger than the {_options.MaxZipBytes / 1048576} MB limit for dataset zips.", null, null);
                    await copy.WriteAsync(buffer.AsMemory(0, read), token);
                }
            }
            if (Unpack(zipCopy, staging, fileName) is { } problem)
                return new(false, problem, null, null);
            // A zip usually holds one top folder; the dataset is that folder.
            string root = staging;
            var entries = Directory.GetFileSystemEntries(staging);
            if (entries.Length == 1 && Directory.Exists(entries[0])) root = entries[0];
            Directory.Move(root, target);
            var result = await RegisterAsync(target, string.IsNullOrWhiteSpace(name) ? Path.GetFileNameWithoutExtension(fileName) : name.Trim(), uploaded: true, token);
            if (!result.Succeeded && Directory.Exists(target)) Directory.Delete(target, recursive: true);
            return result;
        }
        catch (InvalidDataException e)
        {
            return new(false, $"{fileName} is not a readable zip file ({e.Message}).", null, null);
        }
        finally
        {
            if (File.Exists(zipCopy)) File.Delete(zipCopy);
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>Checks every entry before writing any byte, then writes with the limits enforced on the real bytes.</summary>
    private string? Unpack(string zipPath, string folder, string fileName)
    {
        using var archive = ZipFile.OpenRead(zipPath);
        if (archive.Entries.Count > _options.MaxZipEntries)
            return $"{fileName} has {archive.Entries.Count} entries; at most {_options.MaxZipEntries} are allowed.";
        long declared = 0, compressed = 0;
        string root = Path.GetFullPath(folder) + Path.DirectorySeparatorChar;
        foreach (var entry in archive.Entries)
        {
            string target = Path.GetFullPath(Path.Combine(folder, entry.FullName));
            if (entry.FullName.Contains('\\') || Path.IsPathRooted(entry.FullName) || !target.StartsWith(root, StringComparison.Ordinal))
                return $"{fileName} contains the entry '{entry.FullName}', which points outside the dataset folder. Nothing was unpacked.";
            declared += entry.Length;
            compressed += entry.CompressedLength;
            if (entry.CompressedLength > 0 && entry.Length / entry.CompressedLength > _options.MaxEntryCompressionRatio && entry.Length > 1 << 20)
                return $"{fileName}: '{entry.FullName}' expands {entry.Length / entry.CompressedLength}x, which only a zip bomb does. Nothing was unpacked.";
        }
        // Many small entries each under the per-entry check can still add up to a bomb: judge the archive as a whole too.
        if (declared > 1 << 20 && declared / Math.Max(1, compressed) > _options.MaxEntryCompressionRatio)
            return $"{fileName} expands {declared / Math.Max(1, compressed)}x as a whole ({compressed / 1024} KB to {declared / 1048576} MB), which only a zip bomb does. Nothing was unpacked.";
        if (declared > _options.MaxZipUncompressedBytes)
            return $"{fileName} unpacks to {declared / 1048576} MB, above the {_options.MaxZipUncompressedBytes / 1048576} MB limit.";

        Directory.CreateDirectory(folder);
        long written = 0;
        var buffer = new byte[81920];
        foreach (var entry in archive.Entries)
        {
            string target = Path.GetFullPath(Path.Combine(folder, entry.FullName));
            if (entry.FullName.EndsWith('/'))
            {
                Directory.CreateDirectory(target);
                continue;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using var input = entry.Open();
            using var output = File.Create(target);
            long entryBytes = 0;
            int read;
            // The declared sizes can lie; count what actually comes out.
            while ((read = input.Read(buffer, 0, buffer.Length)) > 0)
            {
                entryBytes += read;
                written += read;
                if (entryBytes > entry.Length || written > _options.MaxZipUncompressedBytes)
                    return $"{fileName}: '{entry.FullName}' unpacks to more than it declares. Nothing was kept.";
                output.Write(buffer, 0, read);
            }
        }
        return null;
    }

    private async Task<DatasetResult> RegisterAsync(string folder, string name, bool uploaded, CancellationToken token)
    {
        Dataset dataset;
        try
        {
            dataset = await Task.Run(() => DatasetReader.Read(folder, new DatasetReadOptions { SkipBadRows = true }), token);
        }
        catch (DatasetException e)
        {
            return new(false, "This folder cannot be used for training.", e.Report.Summary(), null);
        }
        var row = new TrainingDataset
        {
            Name = name.Length > 100 ? name[..100] : name, Folder = folder, Uploaded = uploaded, Layout = dataset.Layout.ToString(),
            Images = dataset.Images.Count, GradeCounts = string.Join("/", dataset.GradeCounts), Fingerprint = dataset.Fingerprint(),
            Report = dataset.Report.Summary(),
        };
        await using var db = await dbFactory.CreateDbContextAsync(token);
        db.TrainingDatasets.Add(row);
        await db.SaveChangesAsync(token);
        logger.LogInformation("Dataset {Name} registered: {Images} images, {Layout}", row.Name, row.Images, row.Layout);
        string dropped = dataset.Report.RowsDropped > 0
            ? $" {dataset.Report.RowsDropped} row(s) have problems (see the report): fix them, or choose \"leave out rows with problems\" when starting a run."
            : "";
        return new(true, $"{row.Name}: {row.Images} images ({row.GradeCounts} for grades 0-4), {row.Layout}.{dropped}", row.Report, row);
    }

    private static bool IsInside(string path, string root)
    {
        string r = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        return path == r || path.StartsWith(r + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    /// <summary>
    /// A symbolic link anywhere along the path (not only its last element) could lead out of an allowed root: compare
    /// the fully resolved path with the fully resolved roots.
    /// </summary>
    private bool ResolvesOutside(string path)
    {
        try
        {
            string real = RealPath(path);
            return !Roots.Any(root => IsInside(real, RealPath(root)));
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>The path with every symbolic link along it followed (what realpath(3) gives), for paths that exist.</summary>
    internal static string RealPath(string path, int depth = 0)
    {
        if (depth > 32) throw new IOException($"Too many symbolic links under {path}.");
        string full = Path.GetFullPath(path);
        string current = Path.GetPathRoot(full)!;
        foreach (string part in full[current.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            string next = Path.Combine(current, part);
            var info = new FileInfo(next);
            if (info.Exists || Directory.Exists(next))
            {
                FileSystemInfo entry = Directory.Exists(next) ? new DirectoryInfo(next) : info;
                if (entry.LinkTarget is { } target)
                    next = RealPath(Path.IsPathRooted(target) ? target : Path.Combine(current, target), depth + 1);
            }
            current = next;
        }
        return current;
    }

    private static string Slug(string name)
    {
        var chars = name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray();
        string slug = new string(chars).Trim('-');
        return slug.Length == 0 ? "dataset" : slug[..Math.Min(slug.Length, 60)];
    }
}
