using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Tests.Ml;

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

public class SplitAndSamplerTests
{
    private static readonly Lazy<Dataset> FundusDev = new(() =>
        DatasetReader.Read(Path.GetDirectoryName(SharedData.FundusDevImages)!, new DatasetReadOptions { CheckImagesReadable = false }));

    [Fact]
    public void Split_keeps_both_eyes_of_a_patient_together_and_is_stratified()
    {
        var images = FundusDev.Value.Images;
        var split = PatientSplit.Split(images, 0.2, seed: 1);
        var trainPatients = split.Train.Select(i => i.PatientId).ToHashSet();
        Assert.DoesNotContain(split.Validation, i => trainPatients.Contains(i.PatientId));
        Assert.Equal(images.Count, split.Train.Count + split.Validation.Count);
        Assert.Contains(images, i => i.PatientId == "10007" && images.Count(j => j.PatientId == "10007") == 2);

        double share = (double)split.Validation.Count / images.Count;
        Assert.InRange(share, 0.17, 0.23);
        for (int g = 0; g < 5; g++)
        {
            double all = images.Count(i => i.Grade == g) / (double)images.Count;
            double val = split.Validation.Count(i => i.Grade == g) / (double)split.Validation.Count;
            Assert.True(Math.Abs(all - val) < 0.04, $"grade {g}: {all:0.000} overall, {val:0.000} in validation");
        }
        Assert.Equal(split.Validation.Select(i => i.Id), PatientSplit.Split(images, 0.2, seed: 1).Validation.Select(i => i.Id));
        Assert.NotEqual(split.Validation.Select(i => i.Id), PatientSplit.Split(images, 0.2, seed: 2).Validation.Select(i => i.Id));
    }

    [Fact]
    public void Weighted_sampler_draws_grades_in_proportion_to_count_times_weight()
    {
        // The paper's counts and weights: the expected share of grade g is count_g * w_g / sum.
        int[] counts = [25810, 2443, 5292, 873, 708];
        var grades = counts.SelectMany((c, g) => Enumerable.Repeat(g, c)).ToArray();
        var drawn = EpochSampler.Indices(grades, SamplerKind.Weighted, EpochSampler.PaperWeights, seed: 3, epoch: 0);
        double total = counts.Select((c, g) => c * EpochSampler.PaperWeights[g]).Sum();
        for (int g = 0; g < 5; g++)
        {
            double expected = counts[g] * EpochSampler.PaperWeights[g] / total;
            double actual = drawn.Count(i => grades[i] == g) / (double)drawn.Length;
            Assert.True(Math.Abs(expected - actual) < 0.01, $"grade {g}: expected {expected:0.000}, drew {actual:0.000}");
        }
        Assert.True(drawn.Distinct().Count() < drawn.Length, "draws are with replacement");
    }

    [Fact]
    public void Auto_sampler_balances_grades_and_shuffle_visits_each_once()
    {
        var grades = FundusDev.Value.Images.Select(i => i.Grade).ToArray();
        var auto = EpochSampler.Indices(grades, SamplerKind.InverseFrequency, null, seed: 5, epoch: 1);
        for (int g = 0; g < 5; g++)
            Assert.InRange(auto.Count(i => grades[i] == g) / (double)auto.Length, 0.16, 0.24);

        var shuffle = EpochSampler.Indices(grades, SamplerKind.Shuffle, null, seed: 5, epoch: 1);
        Assert.Equal(Enumerable.Range(0, grades.Length), shuffle.Order());
        Assert.Equal(shuffle, EpochSampler.Indices(grades, SamplerKind.Shuffle, null, seed: 5, epoch: 1));
        Assert.NotEqual(shuffle, EpochSampler.Indices(grades, SamplerKind.Shuffle, null, seed: 5, epoch: 2));
    }
}

public class AugmentationTests
{
    private static Image<Rgb24> Photo() => Image.Load<Rgb24>(SharedData.FundusDevImage());

    private static AugmentationOptions Only(AugmentationOptions change) => change;

    private static readonly AugmentationOptions Nothing = new()
    {
        RotationDegrees = 0, HorizontalFlipProbability = 0, VerticalFlipProbability = 0, TranslateFraction = 0,
        GrayscaleProbability = 0, Brightness = 0, Contrast = 0, Saturation = 0, Hue = 0,
    };

    [Fact]
    public void Horizontal_flip_mirrors_the_pixels()
    {
        using var photo = Photo();
        using var flipped = FundusAugmentation.Apply(photo, Nothing with { HorizontalFlipProbability = 1 }, 1, 0, 0);
        for (int y = 0; y < photo.Height; y += 37)
            for (int x = 0; x < photo.Width; x += 29)
                Assert.Equal(photo[photo.Width - 1 - x, y], flipped[x, y]);
    }

    [Fact]
    public void Vertical_flip_mirrors_the_rows()
    {
        using var photo = Photo();
        using var flipped = FundusAugmentation.Apply(photo, Nothing with { VerticalFlipProbability = 1 }, 1, 0, 0);
        Assert.Equal(photo[100, photo.Height - 1 - 40], flipped[100, 40]);
        Assert.Equal(photo[17, 0], flipped[17, photo.Height - 1]);
    }

    [Fact]
    public void Rotation_by_a_quarter_turn_moves_pixels_around_the_centre()
    {
        using var photo = Photo();
        using var rotated = photo.Clone();
        FundusAugmentation.RotateAndTranslate(rotated, 90, 0, 0);
        // Clockwise on screen: the pixel at (x, y) comes from (y, W - 1 - x) (up to half a pixel of resampling).
        int w = photo.Width;
        foreach (var (x, y) in new[] { (60, 128), (128, 60), (90, 170) })
        {
            var expected = photo[y, w - 1 - x];
            var actual = rotated[x, y];
            Assert.True(Math.Abs(expected.R - actual.R) + Math.Abs(expected.G - actual.G) < 60, $"at ({x},{y}): {expected} vs {actual}");
        }
    }

    [Fact]
    public void Translation_shifts_the_image()
    {
        using var photo = Photo();
        using var moved = photo.Clone();
        FundusAugmentation.RotateAndTranslate(moved, 0, 20, -10);
        Assert.Equal(photo[100, 130], moved[120, 120]);
        Assert.Equal(new Rgb24(0, 0, 0), moved[5, 128]); // uncovered left edge is black
    }

    [Fact]
    public void Grayscale_makes_channels_equal()
    {
        using var photo = Photo();
        using var gray = FundusAugmentation.Apply(photo, Nothing with { GrayscaleProbability = 1 }, 1, 0, 0);
        var p = gray[128, 128];
        Assert.True(Math.Abs(p.R - p.G) <= 1 && Math.Abs(p.G - p.B) <= 1, p.ToString());
        Assert.NotEqual(photo[128, 128].R, photo[128, 128].B);
    }

    [Fact]
    public void Colour_jitter_changes_brightness_within_its_range()
    {
        using var photo = Photo();
        double Mean(Image<Rgb24> img) { double s = 0; for (int y = 0; y < img.Height; y++) for (int x = 0; x < img.Width; x++) s += img[x, y].R; return s / (img.Width * img.Height); }
        double m = Mean(photo);
        for (int i = 0; i < 5; i++)
        {
            using var j = FundusAugmentation.Apply(photo, Nothing with { Brightness = 0.3f }, 9, 0, i);
            double ratio = Mean(j) / m;
            Assert.InRange(ratio, 0.65, 1.35);
        }
    }

    [Fact]
    public void Augmentation_is_reproducible_under_a_seed_and_varies_with_it()
    {
        using var photo = Photo();
        var all = new AugmentationOptions();
        using var a = FundusAugmentation.Apply(photo, all, 7, 3, 11);
        using var b = FundusAugmentation.Apply(photo, all, 7, 3, 11);
        using var c = FundusAugmentation.Apply(photo, all, 7, 3, 12);
        var pa = new Rgb24[photo.Width * photo.Height]; a.CopyPixelDataTo(pa);
        var pb = new Rgb24[photo.Width * photo.Height]; b.CopyPixelDataTo(pb);
        var pc = new Rgb24[photo.Width * photo.Height]; c.CopyPixelDataTo(pc);
        Assert.Equal(pa, pb);
        Assert.NotEqual(pa, pc);
    }
}

public class BatchLoaderTests
{
    [Fact]
    public void Loads_batches_in_order_with_bounded_prefetch()
    {
        var data = DatasetReader.Read(Path.GetDirectoryName(SharedData.FundusDevImages)!, new DatasetReadOptions { CheckImagesReadable = false });
        var images = data.Images.Take(10).ToList();
        int[] order = [3, 1, 4, 1, 5, 9, 2];
        var batches = BatchLoader.Batches(images, order, 3, Preprocessing.ImageNet224, AugmentationOptions.None, 1, 0,
            new LoaderOptions { Workers = 2, Prefetch = 1 }).ToList();
        Assert.Equal([3, 3, 1], batches.Select(b => b.Count));
        Assert.Equal(order, batches.SelectMany(b => b.ImageIndices));
        Assert.Equal(order.Select(i => images[i].Grade), batches.SelectMany(b => b.Grades));

        // Without augmentation a batch slot holds exactly what ModelInput computes for that image.
        using var photo = new ImageDecoder().Decode(images[4].Path);
        var expected = new float[3 * 224 * 224];
        ModelInput.Fill(photo.Pixels, Preprocessing.ImageNet224, expected);
        Assert.Equal(expected, batches[0].Pixels.AsSpan(2 * expected.Length, expected.Length).ToArray());
    }

    [Fact]
    public void A_bad_image_surfaces_as_a_readable_error()
    {
        using var tmp = SharedData.TempFolder();
        File.WriteAllText(tmp.File("bad.jpeg"), "nope");
        var images = new List<LabelledImage> { new(tmp.File("bad.jpeg"), "bad", 0, "bad") };
        var e = Assert.Throws<InvalidDataException>(() =>
            BatchLoader.Batches(images, [0], 1, Preprocessing.ImageNet224, AugmentationOptions.None, 1, 0).ToList());
        Assert.Contains("'bad'", e.Message);
    }
}
