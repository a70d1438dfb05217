using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Ml.Explain;

/// <summary>
/// Expert outlines drawn on a model's view: the border pixels of a mask (marked pixels with an unmarked 4-neighbour)
/// in the kind's colour. A layer is transparent elsewhere, so a page can stack one layer per kind over the photograph
/// and show or hide each.
/// </summary>
public static class LesionOutlines
{
    /// <summary>The border of a square mask (size x size, row-major).</summary>
    public static bool[] Border(bool[] mask, int size)
    {
        var border = new bool[mask.Length];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                int i = y * size + x;
                if (!mask[i]) continue;
                border[i] = x == 0 || y == 0 || x == size - 1 || y == size - 1
                            || !mask[i - 1] || !mask[i + 1] || !mask[i - size] || !mask[i + size];
            }
        return border;
    }

    /// <summary>A transparent PNG of <paramref name="mask"/>'s outline in <paramref name="hexColour"/> (#rrggbb), scaled up <paramref name="scale"/> times.</summary>
    public static byte[] LayerPng(bool[] mask, int size, string hexColour, int scale = 2)
    {
        var colour = Rgba32.ParseHex(hexColour);
        var border = Border(mask, size);
        using var image = new Image<Rgba32>(size * scale, size * scale, new Rgba32(0, 0, 0, 0));
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                    if (border[y / scale * size + x / scale]) row[x] = colour;
            }
        });
        using var png = new MemoryStream();
        image.Save(png, new PngEncoder());
        return png.ToArray();
    }

    /// <summary>The view with every given mask's outline drawn on it in its colour, as a PNG.</summary>
    public static byte[] DrawPng(Image<Rgb24> view, IEnumerable<(bool[] Mask, string Colour)> masks)
    {
        int size = view.Width;
        using var drawn = view.Clone();
        foreach (var (mask, hex) in masks)
        {
            var colour = Rgba32.ParseHex(hex).Rgb;
            var border = Border(mask, size);
            drawn.ProcessPixelRows(rows =>
            {
                for (int y = 0; y < rows.Height; y++)
                {
                    var row = rows.GetRowSpan(y);
                    for (int x = 0; x < row.Length; x++)
                        if (border[y * size + x]) row[x] = colour;
                }
            });
        }
        using var png = new MemoryStream();
        drawn.Save(png, new PngEncoder());
        return png.ToArray();
    }
}
