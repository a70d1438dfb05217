using DrWeb.Ml.Data;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Tests.Ml.Data;

public class DatasetReaderTests
{
    private static string FundusDev => Path.GetDirectoryName(SharedData.FundusDevImages)!;

    [Fact]
    public void Reads_fundus_dev_as_an_image_grade_csv()
    {
        var data = DatasetReader.Read(FundusDev);
        Assert.Equal(DatasetLayout.ImageGradeCsv, data.Layout);
        Assert.Equal(1850, data.Images.Count);
        Assert.Equal([760, 330, 520, 138, 102], data.GradeCounts);
        Assert.Equal(1400, data.Images.Select(i => i.PatientId).Distinct().Count());
        Assert.Equal("10007", data.Images.First(i => i.Id == "10007_left").PatientId);
        Assert.Empty(data.Report.Problems);
    }

    /// <summary>Builds a small dataset folder of a given layout from real fundus-dev images.</summary>
    private static IReadOnlyList<(string Id, int Grade)> Sample(int n = 6) =>
        File.ReadLines(Path.Combine(FundusDev, "labels.csv")).Skip(1).Take(n)
            .Select(l => l.Split(',')).Select(c => (Path.GetFileNameWithoutExtension(c[0]), int.Parse(c[1]))).ToList();

    private static void CopyImage(string id, string destination) =>
        File.Copy(Path.Combine(SharedData.FundusDevImages, id + ".jpeg"), destination);

    [Fact]
    public void Detects_and_reads_kaggle_layout()
    {
        using var tmp = SharedData.TempFolder();
        var rows = Sample();
        File.WriteAllLines(tmp.File("trainLabels.csv"), ["image,level", .. rows.Select(r => $"{r.Id},{r.Grade}")]);
        Directory.CreateDirectory(tmp.File("train"));
        foreach (var r in rows) CopyImage(r.Id, Path.Combine(tmp.File("train"), r.Id + ".jpeg"));

        var data = DatasetReader.Read(tmp.Path);
        Assert.Equal(DatasetLayout.KaggleEyePacs, data.Layout);
        Assert.Equal(rows.Select(r => r.Grade), data.Images.Select(i => i.Grade));
    }

    [Fact]
    public void Detects_and_reads_aptos_layout()
    {
        using var tmp = SharedData.TempFolder();
        var rows = Sample(4);
        File.WriteAllLines(tmp.File("train.csv"), ["id_code,diagnosis", .. rows.Select((r, i) => $"a{i:x4},{r.Grade}")]);
        Directory.CreateDirectory(tmp.File("train_images"));
        for (int i = 0; i < rows.Count; i++)
        {
            using var img = Image.Load<Rgb24>(Path.Combine(SharedData.FundusDevImages, rows[i].Id + ".jpeg"));
            img.SaveAsPng(Path.Combine(tmp.File("train_images"), $"a{i:x4}.png"));
        }
        var data = DatasetReader.Read(tmp.Path);
        Assert.Equal(DatasetLayout.Aptos, data.Layout);
        Assert.Equal(4, data.Images.Count);
        Assert.Equal("a0000", data.Images[0].PatientId); // no eye suffix: each image is its own patient
    }

    [Fact]
    public void Detects_and_reads_folder_per_grade_layout_with_names()
    {
        using var tmp = SharedData.TempFolder();
        var rows = Sample(8);
        string[] names = ["No_DR", "Mild", "Moderate", "Severe", "Proliferate_DR"];
        foreach (var r in rows)
        {
            Directory.CreateDirectory(tmp.File(names[r.Grade]));
            CopyImage(r.Id, Path.Combine(tmp.File(names[r.Grade]), r.Id + ".jpeg"));
        }
        var data = DatasetReader.Read(tmp.Path);
        Assert.Equal(DatasetLayout.FolderPerGrade, data.Layout);
        Assert.Equal(rows.OrderBy(r => r.Id, StringComparer.Ordinal).Select(r => r.Grade).Order(), data.Images.Select(i => i.Grade).Order());
    }

    [Fact]
    public void Validation_names_each_problem_with_its_row_and_file()
    {
        using var tmp = SharedData.TempFolder();
        var rows = Sample(3);
        Directory.CreateDirectory(tmp.File("images"));
        foreach (var r in rows) CopyImage(r.Id, Path.Combine(tmp.File("images"), r.Id + ".jpeg"));
        File.WriteAllText(Path.Combine(tmp.File("images"), "broken_left.jpeg"), "not a jpeg");
        File.WriteAllLines(tmp.File("labels.csv"),
        [
            "image,grade",
            $"{rows[0].Id}.jpeg,{rows[0].Grade}",   // row 2: fine
            $"{rows[1].Id}.jpeg,7",                 // row 3: unknown grade
            $"{rows[0].Id}.jpeg,{rows[0].Grade}",   // row 4: duplicate
            "99999_left.jpeg,1",                    // row 5: missing image
            "broken_left.jpeg,0",                   // row 6: unreadable
            $"{rows[2].Id}.jpeg,{rows[2].Grade}",   // row 7: fine
        ]);

        var e = Assert.Throws<DatasetException>(() => DatasetReader.Read(tmp.Path));
        var problems = e.Report.Problems.ToDictionary(p => p.Kind);
        Assert.Equal(3, problems[DatasetProblemKind.UnknownGrade].Row);
        Assert.Equal(4, problems[DatasetProblemKind.Duplicate].Row);
        Assert.Equal(5, problems[DatasetProblemKind.MissingImage].Row);
        Assert.Equal(6, problems[DatasetProblemKind.UnreadableImage].Row);
        Assert.Equal("99999_left", problems[DatasetProblemKind.MissingImage].File);
        Assert.Contains("row 3", e.Message);

        var lenient = DatasetReader.Read(tmp.Path, new DatasetReadOptions { SkipBadRows = true });
        Assert.Equal(2, lenient.Images.Count);
        Assert.Equal(6, lenient.Report.RowsRead);
        Assert.Equal(4, lenient.Report.RowsDropped);
    }

    [Fact]
    public void Wrong_header_and_empty_dataset_are_fatal_even_when_skipping()
    {
        using var tmp = SharedData.TempFolder();
        File.WriteAllLines(tmp.File("trainLabels.csv"), ["file,label", "1_left,0"]);
        var header = Assert.Throws<DatasetException>(() => DatasetReader.Read(tmp.Path, new DatasetReadOptions { SkipBadRows = true }));
        Assert.Contains(header.Report.Problems, p => p.Kind == DatasetProblemKind.WrongHeader);

        File.WriteAllLines(tmp.File("trainLabels.csv"), ["image,level"]);
        var empty = Assert.Throws<DatasetException>(() => DatasetReader.Read(tmp.Path, new DatasetReadOptions { SkipBadRows = true }));
        Assert.Contains(empty.Report.Problems, p => p.Kind == DatasetProblemKind.EmptyDataset);

        using var nothing = SharedData.TempFolder();
        var unknown = Assert.Throws<DatasetException>(() => DatasetReader.Read(nothing.Path));
        Assert.Contains(unknown.Report.Problems, p => p.Kind == DatasetProblemKind.UnknownLayout);
    }
}
