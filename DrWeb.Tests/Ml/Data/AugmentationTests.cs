using DrWeb.Ml.Data;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Tests.Ml.Data;

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
