using DrWeb.Ml.Imaging;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DrWeb.Tests.Ml.Imaging;

/// <summary>Fundus detection and crop on every raw camera photograph and on the already-cropped development set.</summary>
public class FundusCropTests
{
    private static readonly ImageDecoder Decoder = new();

    /// <summary>Hand-checkable facts about a detected circle, measured on a copy about 512 px wide.</summary>
    internal static (double OutsideDark, double InsideBright, double DiameterToWidth) Check(Image<Rgb24> image, FundusCircle circle)
    {
        float scale = Math.Min(1f, 512f / Math.Max(image.Width, image.Height));
        using var small = image.Clone(x => x.Resize((int)(image.Width * scale), (int)(image.Height * scale)));
        float cx = circle.CenterX * scale, cy = circle.CenterY * scale, r = circle.Radius * scale;
        int outside = 0, outsideDark = 0, inside = 0, insideBright = 0;
        int widest = 0;
        small.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                int first = -1, last = -1;
                for (int x = 0; x < row.Length; x++)
                {
                    int v = Math.Max(row[x].R, Math.Max(row[x].G, row[x].B));
                    float d = MathF.Sqrt((x + 0.5f - cx) * (x + 0.5f - cx) + (y + 0.5f - cy) * (y + 0.5f - cy));
                    if (d > r * 1.04f) { outside++; if (v < 35) outsideDark++; }
                    if (d < r * 0.9f) { inside++; if (v >= 20) insideBright++; }
                    if (v >= 20) { if (first < 0) first = x; last = x; }
                }
                if (first >= 0) widest = Math.Max(widest, last - first + 1);
            }
        });
        return (outside == 0 ? 1 : outsideDark / (double)outside, inside == 0 ? 0 : insideBright / (double)inside, 2 * r / widest);
    }

    public static IEnumerable<object[]> RawPhotographs() =>
        Directory.GetFiles(SharedData.FundusRawImages, "*.jpeg").Order(StringComparer.Ordinal).Select(f => new object[] { Path.GetFileName(f) });

    [Theory]
    [MemberData(nameof(RawPhotographs))]
    public void The_circle_found_in_a_raw_photograph_covers_the_fundus(string file)
    {
        using var image = Decoder.Decode(Path.Combine(SharedData.FundusRawImages, file));
        var circle = FundusCrop.Detect(image.Pixels);

        Assert.NotNull(circle);
        string folder = Path.Combine(SharedData.RepoRoot, "artifacts", "fundus-crop");
        Directory.CreateDirectory(folder);
        using (var crop = FundusCrop.Crop(image.Pixels, circle, 384)) crop.SaveAsPng(Path.Combine(folder, Path.ChangeExtension(file, ".png")));
        var (outsideDark, insideBright, ratio) = Check(image.Pixels, circle);
        Assert.True(outsideDark >= 0.97, $"only {outsideDark:P1} of the pixels outside the circle are near-black");
        Assert.True(insideBright >= 0.97, $"only {insideBright:P1} of the pixels inside the circle are fundus");
        // 326_left/right have a bright halo just outside the retina (0.95); a dark fundus rim makes the measured width the small one.
        Assert.InRange(ratio, 0.94, 1.04);

    }

    [Fact]
    public void Development_crops_are_found_and_preparing_twice_is_the_same_as_once()
    {
        var files = Directory.GetFiles(SharedData.FundusDevImages, "*.jpeg").Order(StringComparer.Ordinal).Where((_, i) => i % 5 == 0).ToList();
        var problems = new List<string>();
        int untouched = 0;
        foreach (string file in files)
        {
            using var image = Decoder.Decode(file);
            using var once = FundusCrop.Prepare(image.Pixels, 256);
            if (once is null) { problems.Add($"{Path.GetFileName(file)}: no fundus"); continue; }
            if (once.AlreadyCropped) untouched++;
            using var twice = FundusCrop.Prepare(once.Image, 256);
            if (twice is not { AlreadyCropped: true }) problems.Add($"{Path.GetFileName(file)}: its crop would be cropped again");
        }
        // Measured on this sample: 4 of 370 are not handled (12352_right and 14915_left, partial off-centre views with
        // no circle to fit; 14160_right and 15993_right, whose surround is cropped a second time). Known, not yet fixed.
        Assert.True(problems.Count <= 0.015 * files.Count, string.Join("; ", problems));
        // Nearly all of fundus-dev is already a crop; the few with a wide surround are zoomed to the fundus.
        Assert.True(untouched >= 0.95 * files.Count, $"{untouched} of {files.Count} left as they were");
    }

    [Fact]
    public void A_raw_photograph_is_cropped_once_and_then_left_alone()
    {
        foreach (string file in Directory.GetFiles(SharedData.FundusRawImages, "*.jpeg").Order(StringComparer.Ordinal).Take(6))
        {
            using var raw = Decoder.Decode(file);
            using var once = FundusCrop.Prepare(raw.Pixels, 512);
            Assert.False(once!.AlreadyCropped, $"{Path.GetFileName(file)} has a black surround to remove");
            using var twice = FundusCrop.Prepare(once.Image, 512);
            Assert.True(twice!.AlreadyCropped, $"the crop of {Path.GetFileName(file)} would be cropped again");
        }
    }
}
