using DrWeb.Ml.Explain;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DrWeb.Tests.Ml.Explain;

public class HeatmapOverlayTests
{
    public HeatmapOverlayTests() => TorchSetup.Ensure();

    [Fact]
    public void Jet_runs_from_blue_through_green_to_red()
    {
        Rgb24 low = Colormap.Jet[0f], mid = Colormap.Jet[0.5f], high = Colormap.Jet[1f];
        Assert.True(low.B > 100 && low.R == 0 && low.G == 0);
        Assert.True(mid.G > 200 && mid.R < 160 && mid.B < 160);
        Assert.True(high.R > 100 && high.G == 0 && high.B == 0);
    }

    [Fact]
    public void Viridis_runs_from_purple_to_yellow()
    {
        Assert.Equal(new Rgb24(0x44, 0x01, 0x54), Colormap.Viridis[0f]);
        Assert.Equal(new Rgb24(0xFD, 0xE7, 0x25), Colormap.Viridis[1f]);
    }

    [Fact]
    public void Resize_matches_torch_bilinear_without_aligned_corners()
    {
        var values = Enumerable.Range(0, 49).Select(i => MathF.Sin(i * 0.37f) * 3f).ToArray();
        var map = new HeatMap(7, 7, values);
        using var t = tensor(values, [1, 1, 7, 7]);
        using var expected = functional.interpolate(t, size: [224, 180], mode: InterpolationMode.Bilinear, align_corners: false);
        Assert.True(F32.MaxAbsDiff(map.Resize(224, 180).Values, expected.data<float>().ToArray()) < 1e-5f);
    }

    [Fact]
    public void Overlay_keeps_the_photograph_resolution_and_colours_hot_and_cold_regions()
    {
        using var photo = Image.Load<Rgb24>(SharedData.FundusDevImage());
        // Hot in the top-left cell, cold elsewhere.
        var cam = new HeatMap(2, 2, [1f, 0f, 0f, 0f]);
        using var overlay = HeatmapOverlay.Render(photo, cam, new OverlayOptions { ImageWeight = 0.5f });

        Assert.Equal((photo.Width, photo.Height), (overlay.Width, overlay.Height));
        Rgb24 hot = overlay[40, 40], hotPhoto = photo[40, 40];
        Rgb24 cold = overlay[220, 220], coldPhoto = photo[220, 220];
        Assert.True(hot.R - hotPhoto.R / 2 > 40, "hot region is tinted red");
        Assert.True(cold.B - coldPhoto.B / 2 > 40, "cold region is tinted blue");
    }

    [Fact]
    public void Image_weight_one_returns_the_photograph_and_out_of_range_is_refused()
    {
        using var photo = Image.Load<Rgb24>(SharedData.FundusDevImage());
        var cam = new HeatMap(2, 2, [1f, 0f, 0.5f, 0.2f]);
        using var same = HeatmapOverlay.Render(photo, cam, new OverlayOptions { ImageWeight = 1f });
        Assert.Equal(photo[128, 128], same[128, 128]);
        Assert.Equal(photo[10, 200], same[10, 200]);
        Assert.Throws<ArgumentOutOfRangeException>(() => HeatmapOverlay.Render(photo, cam, new OverlayOptions { ImageWeight = 1.5f }));
    }

    [Fact]
    public void Render_png_writes_a_png()
    {
        using var photo = Image.Load<Rgb24>(SharedData.FundusDevImage());
        byte[] png = HeatmapOverlay.RenderPng(photo, new HeatMap(1, 2, [0f, 1f]));
        Assert.Equal("PNG", Image.DetectFormat(png)!.Name);
    }
}
