using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Ml.Explain;

public sealed record OverlayOptions
{
    /// <summary>
    /// Share of the photograph in the blend; the heatmap gets the rest. The paper blended 0.8 image + 0.1 heatmap,
    /// which darkens the photograph and leaves the map faint; 0.6 keeps the lesions visible under a readable map.
    /// </summary>
    public float ImageWeight { get; init; } = 0.6f;

    public Colormap Colormap { get; init; } = Colormap.Jet;
}

/// <summary>Colours a CAM and blends it onto the original photograph at the photograph's own resolution.</summary>
public static class HeatmapOverlay
{
    /// <param name="cam">A low-resolution CAM (e.g. <see cref="CamResult.Raw"/>); it is upsampled to the photograph and normalised.</param>
    public static Image<Rgb24> Render(Image<Rgb24> photograph, HeatMap cam, OverlayOptions? options = null)
    {
        options ??= new OverlayOptions();
        if (options.ImageWeight is < 0f or > 1f)
            throw new ArgumentOutOfRangeException(nameof(options), "ImageWeight must be between 0 and 1.");
        float wi = options.ImageWeight, wh = 1f - wi;
        var map = cam.Resize(photograph.Height, photograph.Width).Normalised();
        var result = photograph.Clone();
        result.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                int offset = y * map.Width;
                for (int x = 0; x < row.Length; x++)
                {
                    Rgb24 heat = options.Colormap[map.Values[offset + x]];
                    Rgb24 p = row[x];
                    row[x] = new Rgb24(
                        (byte)(p.R * wi + heat.R * wh + 0.5f),
                        (byte)(p.G * wi + heat.G * wh + 0.5f),
                        (byte)(p.B * wi + heat.B * wh + 0.5f));
                }
            }
        });
        return result;
    }

    public static byte[] RenderPng(Image<Rgb24> photograph, HeatMap cam, OverlayOptions? options = null)
    {
        using var overlay = Render(photograph, cam, options);
        using var ms = new MemoryStream();
        overlay.Save(ms, new PngEncoder());
        return ms.ToArray();
    }
}
