using System.IO.Compression;
using DrWeb.Server.Training;
using DrWeb.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Training;

/// <summary>Dataset registration: allowed roots, the validation report, and zips checked entry by entry.</summary>
public class TrainingDatasetsTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    private TrainingDatasets Datasets => factory.Services.GetRequiredService<TrainingDatasets>();

    private static byte[] Zip(Action<ZipArchive> fill)
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true)) fill(zip);
        return memory.ToArray();
    }

    private static void AddTiny(ZipArchive zip, string prefix, int perGrade = 2)
    {
        var rows = new List<string> { "image,grade" };
        var labels = File.ReadLines(Path.Combine(Path.GetDirectoryName(SharedData.FundusDevImages)!, "labels.csv")).Skip(1)
            .Select(l => l.Split(',')).GroupBy(c => c[1]).SelectMany(g => g.Take(perGrade));
        foreach (var c in labels)
        {
            zip.CreateEntryFromFile(Path.Combine(SharedData.FundusDevImages, c[0]), $"{prefix}images/{c[0]}");
            rows.Add($"{c[0]},{c[1]}");
        }
        using var writer = new StreamWriter(zip.CreateEntry($"{prefix}labels.csv").Open());
        writer.Write(string.Join("\n", rows));
    }

    [Fact]
    public async Task A_zip_of_real_images_is_unpacked_validated_and_registered()
    {
        _ = factory.Server;
        await using var zip = new MemoryStream(Zip(z => AddTiny(z, "export/")));
        var result = await Datasets.RegisterZipAsync(zip, "export.zip", "clinic export");
        Assert.True(result.Succeeded, result.Message + result.Report);
        Assert.Equal(10, result.Dataset!.Images);
        Assert.Equal("2/2/2/2/2", result.Dataset.GradeCounts);
        Assert.StartsWith(Datasets.UploadFolder, result.Dataset.Folder);
        Assert.Contains("ImageGradeCsv", result.Report);
    }

    [Fact]
    public async Task Path_traversal_in_a_zip_is_refused_before_anything_is_written()
    {
        _ = factory.Server;
        string outside = Path.Combine(Path.GetDirectoryName(factory.DataFolder)!, $"evil-{Guid.NewGuid():N}.txt");
        await using var zip = new MemoryStream(Zip(z =>
        {
            AddTiny(z, "");
            using var w = new StreamWriter(z.CreateEntry($"../../{Path.GetFileName(outside)}").Open());
            w.Write("pwned");
        }));
        var before = Directory.GetFileSystemEntries(Datasets.UploadFolder).Length;

        var result = await Datasets.RegisterZipAsync(zip, "evil.zip", null);

        Assert.False(result.Succeeded);
        Assert.Contains("points outside the dataset folder", result.Message);
        Assert.False(File.Exists(outside));
        Assert.Equal(before, Directory.GetFileSystemEntries(Datasets.UploadFolder).Length);
    }

    [Fact]
    public async Task A_zip_bomb_entry_is_refused()
    {
        _ = factory.Server;
        await using var zip = new MemoryStream(Zip(z =>
        {
            using var s = z.CreateEntry("images/zeros.png", CompressionLevel.SmallestSize).Open();
            s.Write(new byte[50 * 1024 * 1024]);
        }));
        var result = await Datasets.RegisterZipAsync(zip, "bomb.zip", null);
        Assert.False(result.Succeeded);
        Assert.Contains("zip bomb", result.Message);
    }

    [Fact]
    public async Task Many_small_entries_that_add_up_to_a_bomb_are_refused_as_a_whole()
    {
        _ = factory.Server;
        await using var zip = new MemoryStream(Zip(z =>
        {
            var zeros = new byte[700 * 1024];
            for (int i = 0; i < 150; i++)
            {
                using var s = z.CreateEntry($"images/zeros-{i}.png", CompressionLevel.SmallestSize).Open();
                s.Write(zeros);
            }
        }));
        Assert.True(zip.Length < 1 << 20, $"the test zip is {zip.Length} bytes");
        var result = await Datasets.RegisterZipAsync(zip, "many.zip", null);
        Assert.False(result.Succeeded);
        Assert.Contains("as a whole", result.Message);
    }

    [Fact]
    public async Task A_symbolic_link_in_the_middle_of_the_path_cannot_lead_outside_the_roots()
    {
        _ = factory.Server;
        using var outside = new TempFolder();
        string secret = Path.Combine(outside.Path, "secretset");
        Directory.CreateDirectory(Path.Combine(secret, "images"));
        File.WriteAllText(Path.Combine(secret, "labels.csv"), "image,grade\n");
        string link = Path.Combine(Datasets.UploadFolder, "evil-out-" + Guid.NewGuid().ToString("N"));
        Directory.CreateSymbolicLink(link, outside.Path);
        try
        {
            var result = await Datasets.RegisterFolderAsync(Path.Combine(link, "secretset"), null);
            Assert.False(result.Succeeded);
            Assert.Contains("links to a place outside", result.Message);
        }
        finally
        {
            Directory.Delete(link);
        }
    }

    [Fact]
    public async Task Folders_outside_the_roots_junk_zips_and_unusable_folders_are_refused_with_reasons()
    {
        _ = factory.Server;
        Assert.Contains("outside the folders", (await Datasets.RegisterFolderAsync(SharedData.FundusDevImages, null)).Message);
        Assert.Contains("outside the folders", (await Datasets.RegisterFolderAsync(Path.Combine(Datasets.UploadFolder, "..", ".."), null)).Message);

        await using var junk = new MemoryStream("not a zip"u8.ToArray());
        Assert.Contains("not a readable zip", (await Datasets.RegisterZipAsync(junk, "junk.zip", null)).Message);

        string empty = Path.Combine(Datasets.UploadFolder, "empty-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(empty);
        var result = await Datasets.RegisterFolderAsync(empty, null);
        Assert.False(result.Succeeded);
        Assert.Contains("cannot be used for training", result.Message);
        Assert.NotNull(result.Report);
    }
}
