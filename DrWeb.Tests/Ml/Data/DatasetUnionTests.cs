using DrWeb.Ml.Data;
using DrWeb.Ml.Manifest;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DrWeb.Tests.Ml.Data;

public class DatasetUnionTests
{
    private static string Data(string name) => Path.Combine(SharedData.SharedRoot, "data", name);

    [Trait("Category", "Slow")]
    [Fact]
    public void The_union_of_fundus_dev_and_fundus_train_splits_with_no_patient_or_near_duplicate_straddling()
    {
        var parts = new[] { DatasetReader.Read(Data("fundus-dev")), DatasetReader.Read(Data("fundus-train")) };
        var union = DatasetUnion.Combine(parts);

        Assert.Equal(9365, union.Images.Count);
        Assert.Equal([6110, 741, 1825, 315, 374], union.GradeCounts);
        // Sources come from the folder name, or from sources.csv where a folder mixes origins.
        var sources = union.Images.GroupBy(i => i.Source).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(1850, sources["fundus-dev"]);
        Assert.Equal(3504, sources["fundus-train/APTOS 2019 (besnikkelmendi)"]);
        Assert.Equal(3526, sources["fundus-train/EyePACS (navjotk)"]);
        Assert.Equal(485, sources["fundus-train/EyePACS (sachinmorre-git)"]);

        // 948 navjotk patients have their other eye in fundus-dev: they are one patient across the folders.
        var devPatients = parts[0].Images.Select(i => i.PatientId).ToHashSet();
        Assert.Equal(948, parts[1].Images.Where(i => i.Source.EndsWith("(navjotk)")).Select(i => i.PatientId).Distinct().Count(devPatients.Contains));

        // APTOS holds copies that are not byte-identical; they were found and share a patient id.
        Assert.InRange(union.NearDuplicates.Groups.Count, 5, 30);
        foreach (var group in union.NearDuplicates.Groups)
            Assert.Single(union.Images.Where(i => group.Contains(i.Id)).Select(i => i.PatientId).Distinct());

        var (remaining, test) = PatientSplit.HoldOut(union.Images, 0.1, 42);
        var split = PatientSplit.Split(remaining, 0.2, 42);
        var sides = new[] { split.Train, split.Validation, test }.Select(s => s.Select(i => i.PatientId).ToHashSet()).ToArray();
        Assert.Empty(sides[0].Intersect(sides[1]));
        Assert.Empty(sides[0].Intersect(sides[2]));
        Assert.Empty(sides[1].Intersect(sides[2]));
        Assert.Equal(9365, split.Train.Count + split.Validation.Count + test.Count);
        foreach (var group in union.NearDuplicates.Groups)
            Assert.Single(sides, side => union.Images.Any(i => group.Contains(i.Id) && side.Contains(i.PatientId)));
    }

    [Fact]
    public void A_resized_recompressed_copy_is_a_near_duplicate_and_another_eye_is_not()
    {
        using var tmp = SharedData.TempFolder();
        string original = SharedData.FundusDevImage("10007_left.jpeg");
        using (var image = Image.Load<Rgb24>(original))
        {
            image.Mutate(x => x.Resize(224, 224).Brightness(1.05f));
            image.SaveAsJpeg(tmp.File("copy.jpg"), new SixLabors.ImageSharp.Formats.Jpeg.JpegEncoder { Quality = 70 });
        }
        var a = PerceptualHash.Of(original);
        Assert.InRange(a.DistanceTo(PerceptualHash.Of(tmp.File("copy.jpg"))), 0, NearDuplicates.DefaultMaxDistance);
        Assert.True(a.DistanceTo(PerceptualHash.Of(SharedData.FundusDevImage("10007_right.jpeg"))) > 2 * NearDuplicates.DefaultMaxDistance);

        var images = new List<LabelledImage>
        {
            new(original, "a_left", 2, "a", "x"),
            new(tmp.File("copy.jpg"), "b_left", 2, "b", "y"),
            new(SharedData.FundusDevImage("10009_right.jpeg"), "c_right", 0, "c", "x"),
        };
        var (grouped, report) = NearDuplicates.Group(images);
        Assert.Single(report.Groups);
        Assert.Equal(2, report.MergedPatients);
        Assert.Equal(grouped[0].PatientId, grouped[1].PatientId);
        Assert.Equal("c", grouped[2].PatientId);
    }

    [Fact]
    public void An_image_in_two_folders_is_refused_with_both_named()
    {
        var dev = DatasetReader.Read(Data("fundus-dev"));
        var e = Assert.Throws<ArgumentException>(() => DatasetUnion.Combine([dev, dev], nearDuplicateDistance: -1));
        Assert.Contains("is in both", e.Message);
    }

    [Fact]
    public void Per_source_reports_count_each_source_on_its_own()
    {
        var images = new List<LabelledImage>
        {
            new("p1", "1", 0, "1", "A"), new("p2", "2", 3, "2", "A"), new("p3", "3", 0, "3", "B"), new("p4", "4", 2, "4", "B"), new("p5", "5", 2, "5", "B"),
        };
        EvaluatedImage E(string id, int truth, float pRef) => new(id, truth, pRef >= 0.5 ? 2 : 0, [1 - pRef, 0, pRef, 0, 0]);
        var evaluated = new[] { E("1", 0, 0.2f), E("2", 3, 0.9f), E("3", 0, 0.6f), E("4", 2, 0.7f), E("5", 2, 0.4f) };
        var reports = SourceReport.BySource(images, evaluated, threshold: 0.5);
        Assert.Equal(["A", "B"], reports.Select(r => r.Source));
        Assert.Equal(2, reports[0].Report.Images);
        Assert.Equal(1.0, reports[0].Report.Referable.RocAuc);
        Assert.Equal(new Ratio(1, 2), reports[1].Report.Referable.Sensitivity);
        Assert.Equal(new Ratio(0, 1), reports[1].Report.Referable.Specificity);
        Assert.Equal(0.5, reports[1].Report.Referable.RocAuc);
    }
}
