using SixLabors.ImageSharp;
using SixLabors.ImageSharp.ColorSpaces;
using SixLabors.ImageSharp.ColorSpaces.Conversion;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DrWeb.Ml.Imaging;

/// <summary>A named colour normalisation applied to the square fundus view, identically in training and inference.</summary>
public enum ColourRecipe
{
    /// <summary>The pixels as photographed.</summary>
    None,

    /// <summary>
    /// Ben Graham's Kaggle-2015 recipe: 4·img − 4·GaussianBlur(img, σ = radius/30) + 128, which removes the local
    /// average colour (illumination, pigmentation), then everything outside 0.9 of the radius set to mid grey.
    /// </summary>
    Graham,

    /// <summary>CLAHE on the L channel of CIE L*a*b* (clip limit 2, 8x8 tiles): local contrast, colour kept.</summary>
    Clahe,
}

public static class ColourRecipes
{
    public static ColourRecipe Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "none" => ColourRecipe.None,
        "graham" => ColourRecipe.Graham,
        "clahe" => ColourRecipe.Clahe,
        _ => throw new ArgumentException($"Unknown colour recipe '{name}'. Use none, graham or clahe."),
    };

    /// <summary>Applies the recipe in place to a square view whose circle has the crop's standard margin.</summary>
    public static void Apply(Image<Rgb24> view, ColourRecipe recipe)
    {
        switch (recipe)
        {
            case ColourRecipe.Graham: Graham(view); break;
            case ColourRecipe.Clahe: Clahe(view); break;
        }
    }

    /// <summary>The circle's radius in a square view made by <see cref="FundusCrop"/>.</summary>
    public static float RadiusIn(Image<Rgb24> view) => view.Width / 2f / (1 + 2 * FundusCrop.DefaultMargin);

    public static void Graham(Image<Rgb24> view)
    {
        float radius = RadiusIn(view);
        using var blurred = view.Clone(x => x.GaussianBlur(Math.Max(0.5f, radius / 30)));
        float c = view.Width / 2f, inside = 0.9f * radius;
        var grey = new Rgb24(128, 128, 128);
        view.ProcessPixelRows(blurred, (target, local) =>
        {
            for (int y = 0; y < target.Height; y++)
            {
                var row = target.GetRowSpan(y);
                var mean = local.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    float dx = x + 0.5f - c, dy = y + 0.5f - c;
                    row[x] = dx * dx + dy * dy > inside * inside
                        ? grey
                        : new Rgb24(Scale(row[x].R, mean[x].R), Scale(row[x].G, mean[x].G), Scale(row[x].B, mean[x].B));
                }
            }
        });
    }

    private static byte Scale(byte value, byte localMean) => (byte)Math.Clamp(4 * (value - localMean) + 128, 0, 255);

    public const float ClaheClipLimit = 2f;
    public const int ClaheTiles = 8;

    public static void Clahe(Image<Rgb24> view)
    {
        int w = view.Width, h = view.Height;
        var converter = new ColorSpaceConverter();
        var lab = new CieLab[w * h];
        var l = new byte[w * h];
        view.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < h; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < w; x++)
                {
                    lab[y * w + x] = converter.ToCieLab(new Rgb(row[x].R / 255f, row[x].G / 255f, row[x].B / 255f));
                    l[y * w + x] = (byte)Math.Clamp(lab[y * w + x].L * 2.55f + 0.5f, 0, 255);
                }
            }
        });
        var mapped = EqualiseTiles(l, w, h, ClaheTiles, ClaheClipLimit);
        view.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < h; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < w; x++)
                {
                    var p = lab[y * w + x];
                    var rgb = converter.ToRgb(new CieLab(mapped[y * w + x] / 2.55f, p.A, p.B));
                    row[x] = new Rgb24(ToByte(rgb.R), ToByte(rgb.G), ToByte(rgb.B));
                }
            }
        });
    }

    private static byte ToByte(float v) => (byte)Math.Clamp(v * 255f + 0.5f, 0, 255);

    /// <summary>
    /// Contrast-limited adaptive histogram equalisation of an 8-bit channel: a clipped, redistributed histogram per
    /// tile, and each pixel mapped by bilinear interpolation between the four nearest tiles' mappings.
    /// </summary>
    public static byte[] EqualiseTiles(byte[] channel, int w, int h, int tiles, float clipLimit)
    {
        int tw = (int)Math.Ceiling(w / (double)tiles), th = (int)Math.Ceiling(h / (double)tiles);
        var maps = new byte[tiles, tiles][];
        for (int ty = 0; ty < tiles; ty++)
            for (int tx = 0; tx < tiles; tx++)
            {
                var histogram = new int[256];
                int x0 = tx * tw, y0 = ty * th, x1 = Math.Min(w, x0 + tw), y1 = Math.Min(h, y0 + th), n = 0;
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++) { histogram[channel[y * w + x]]++; n++; }
                var map = new byte[256];
                if (n > 0)
                {
                    // Clip at clipLimit x the mean bin height and share the excess evenly, as OpenCV's createCLAHE does.
                    int limit = Math.Max(1, (int)(clipLimit * n / 256));
                    int excess = 0;
                    for (int i = 0; i < 256; i++) if (histogram[i] > limit) { excess += histogram[i] - limit; histogram[i] = limit; }
                    int share = excess / 256, rest = excess % 256;
                    for (int i = 0; i < 256; i++) histogram[i] += share + (i < rest ? 1 : 0);
                    long cumulative = 0;
                    for (int i = 0; i < 256; i++)
                    {
                        cumulative += histogram[i];
                        map[i] = (byte)Math.Clamp(Math.Round(cumulative * 255.0 / n), 0, 255);
                    }
                }
                maps[ty, tx] = map;
            }
        var result = new byte[channel.Length];
        for (int y = 0; y < h; y++)
        {
            float gy = (y + 0.5f) / th - 0.5f;
            int ty0 = Math.Clamp((int)Math.Floor(gy), 0, tiles - 1), ty1 = Math.Min(tiles - 1, ty0 + 1);
            float fy = Math.Clamp(gy - ty0, 0, 1);
            for (int x = 0; x < w; x++)
            {
                float gx = (x + 0.5f) / tw - 0.5f;
                int tx0 = Math.Clamp((int)Math.Floor(gx), 0, tiles - 1), tx1 = Math.Min(tiles - 1, tx0 + 1);
                float fx = Math.Clamp(gx - tx0, 0, 1);
                byte v = channel[y * w + x];
                float top = maps[ty0, tx0][v] * (1 - fx) + maps[ty0, tx1][v] * fx;
                float bottom = maps[ty1, tx0][v] * (1 - fx) + maps[ty1, tx1][v] * fx;
                result[y * w + x] = (byte)Math.Clamp(top * (1 - fy) + bottom * fy + 0.5f, 0, 255);
            }
        }
        return result;
    }
}
