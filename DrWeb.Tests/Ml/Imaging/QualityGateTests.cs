using DrWeb.Ml.Imaging;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DrWeb.Tests.Ml.Imaging;

/// <summary>The quality gate on every clinician-graded image (all must pass) and on crafted failures (all must fail).</summary>
public class QualityGateTests
{
    private static readonly ImageDecoder Decoder = new();

    private static List<(string File, QualityReport Report)> AssessAll(string folder, int every = 1) =>
        Directory.GetFiles(folder, "*.jpeg").Order(StringComparer.Ordinal).Where((_, i) => i % every == 0).Select(f =>
        {
            using var image = Decoder.Decode(f);
            return (Path.GetFileName(f), QualityGate.Assess(image.Pixels));
        }).ToList();

    private static string Stats(IEnumerable<(string File, QualityReport Report)> all) => string.Join("\n", all.Select(a =>
        $"{a.File} {a.Report.Verdict} bright={a.Report.MeanBrightness:0.0} sat={a.Report.SaturatedShare:0.000} sharp={a.Report.Sharpness:0.0} diam={a.Report.FundusDiameter:0} field={a.Report.FieldShare:0.00} {string.Join(",", a.Report.Reasons.Select(r => r.Reason))}"));

    /// <summary>About 40 s: every photograph of two datasets through the gate. Slow lane.</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void Every_clinician_graded_image_passes()
    {
        var raw = AssessAll(SharedData.FundusRawImages);
        var dev = AssessAll(SharedData.FundusDevImages);
        File.WriteAllText("/tmp/quality-raw.txt", Stats(raw));
        File.WriteAllText("/tmp/quality-dev.txt", Stats(dev));
        Assert.All(raw, r => Assert.True(r.Report.Verdict == QualityVerdict.Good, r.File + ": " + string.Join(" ", r.Report.Reasons.Select(x => x.Message))));
        // Measured: 1,843 of 1,850 pass (all as Usable: 256 px is a low resolution). The 7 that do not are partial,
        // washed-out or off-centre views where no field of view is found (e.g. 10567_left, 13534_right). Known gap.
        var failed = dev.Where(d => !d.Report.Gradable).Select(d => d.File).ToList();
        Assert.True(failed.Count <= 0.005 * dev.Count, string.Join(", ", failed));
        Assert.All(dev.Where(d => d.Report.Gradable), d => Assert.Contains(d.Report.Reasons, r => r.Reason == QualityReason.ResolutionTooLow && !r.Blocking));
    }

    private static Image<Rgb24> Raw(string name = "17_left.jpeg")
    {
        using var image = Decoder.Decode(Path.Combine(SharedData.FundusRawImages, name));
        return image.Pixels.Clone(x => x.Resize(image.Width / 2, image.Height / 2));
    }

    private static Image<Rgb24> Exposed(Image<Rgb24> image, float factor)
    {
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
                foreach (ref var p in rows.GetRowSpan(y))
                    p = new Rgb24((byte)Math.Min(255, p.R * factor), (byte)Math.Min(255, p.G * factor), (byte)Math.Min(255, p.B * factor));
        });
        return image;
    }

    public static IEnumerable<object[]> CraftedFailures() =>
    [
        ["black image", QualityReason.NoFundusFound],
        ["heavily blurred photograph", QualityReason.Blurred],
        ["photograph 3 stops under-exposed", QualityReason.TooDark],
        ["photograph 3 stops over-exposed", QualityReason.OverExposed],
        ["grey gradient", QualityReason.NoFundusFound],
        ["colour gradient", QualityReason.NoFundusFound],
        ["text", QualityReason.NoFundusFound],
    ];

    [Theory]
    [MemberData(nameof(CraftedFailures))]
    public void Crafted_failures_are_ungradable_for_the_right_reason(string kind, QualityReason expected)
    {
        using Image<Rgb24> image = kind switch
        {
            "black image" => new Image<Rgb24>(1600, 1200, new Rgb24(0, 0, 0)),
            "heavily blurred photograph" => Raw().Clone(x => x.GaussianBlur(12)),
            "photograph 3 stops under-exposed" => Exposed(Raw("59_left.jpeg"), 1 / 8f),
            "photograph 3 stops over-exposed" => Exposed(Raw(), 8f),
            "grey gradient" => Gradient((x, y) => new Rgb24((byte)(x * 255 / 1599), (byte)(x * 255 / 1599), (byte)(x * 255 / 1599))),
            "colour gradient" => Gradient((x, y) => new Rgb24((byte)(x * 255 / 1599), (byte)(y * 255 / 1199), 128)),
            _ => Text(),
        };
        var report = QualityGate.Assess(image);
        File.AppendAllText("/tmp/quality-crafted.txt", $"{kind}: {report.Verdict} bright={report.MeanBrightness:0.0} sat={report.SaturatedShare:0.000} sharp={report.Sharpness:0.0} {string.Join(",", report.Reasons.Select(r => r.Reason))}\n");
        Assert.Equal(QualityVerdict.Ungradable, report.Verdict);
        Assert.Contains(report.Reasons, r => r.Reason == expected && r.Blocking);
    }

    private static Image<Rgb24> Gradient(Func<int, int, Rgb24> colour)
    {
        var image = new Image<Rgb24>(1600, 1200);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++) row[x] = colour(x, y);
            }
        });
        return image;
    }

    /// <summary>Black "text" strokes on white: bars of varying length, as a scanned letter looks at this scale.</summary>
    private static Image<Rgb24> Text()
    {
        var rng = new Random(5);
        var image = new Image<Rgb24>(1600, 1200, new Rgb24(255, 255, 255));
        image.ProcessPixelRows(rows =>
        {
            for (int line = 0; line < 30; line++)
                for (int word = 0; word < 12; word++)
                {
                    int x0 = 80 + word * 120, length = rng.Next(40, 110), y0 = 60 + line * 36;
                    for (int y = y0; y < y0 + 14; y++)
                    {
                        var row = rows.GetRowSpan(y);
                        for (int x = x0; x < x0 + length; x++) if ((x / 3) % 4 != 0) row[x] = new Rgb24(0, 0, 0);
                    }
                }
        });
        return image;
    }
}
