using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DrWeb.Ml.Imaging;

/// <summary>Which half of the picture (as displayed) the optic disc lies in.</summary>
public enum PictureSide
{
    Left,
    Right,
}

/// <summary>Where the optic disc is, and how sure the finder is.</summary>
/// <param name="X">Disc centre in the photograph's pixels.</param>
/// <param name="Y">Disc centre in the photograph's pixels.</param>
/// <param name="Offset">Horizontal distance of the disc from the fundus centre, as a share of the fundus radius (negative: left).</param>
/// <param name="Contrast">How much brighter the disc window is than the fundus around it (its mean over the fundus mean).</param>
public sealed record OpticDiscLocation(float X, float Y, float Offset, float Contrast)
{
    /// <summary>The side the disc lies on, or null when it is too near the centre or too faint to say.</summary>
    public PictureSide? Side => Math.Abs(Offset) < OpticDisc.MinimumOffset || Contrast < OpticDisc.MinimumContrast ? null
        : Offset < 0 ? PictureSide.Left : PictureSide.Right;
}

/// <summary>
/// Finds the optic disc as the brightest disc-sized window of the fundus (red plus green, where the yellow-white disc
/// stands out and the macula is dark), away from the rim where flash reflections sit. Good enough to tell which side of
/// the picture it is on, which says which eye a macula- or disc-centred photograph shows; not a segmentation.
/// </summary>
public static class OpticDisc
{
    /// <summary>A disc closer to the centre than this share of the radius gives no side (a disc-centred field).</summary>
    public const float MinimumOffset = 0.12f;

    /// <summary>A brightest window less than this many times the fundus mean is not taken for a disc.</summary>
    public const float MinimumContrast = 1.15f;

    private const int WorkSize = 256;

    public static OpticDiscLocation? Locate(Image<Rgb24> photograph)
    {
        var circle = FundusCrop.Detect(photograph) ?? FundusCircle.WholeFrame(photograph.Width, photograph.Height);
        float scale = Math.Min(1f, WorkSize / (float)Math.Max(photograph.Width, photograph.Height));
        int w = Math.Max(1, (int)Math.Round(photograph.Width * scale)), h = Math.Max(1, (int)Math.Round(photograph.Height * scale));
        using var small = photograph.Clone(x => x.Resize(w, h, KnownResamplers.Box));
        float cx = circle.CenterX * scale, cy = circle.CenterY * scale, r = circle.Radius * scale;
        if (r < 8) return null;

        // Integral image of red + green, counting only pixels inside the fundus.
        var sum = new double[(w + 1) * (h + 1)];
        var count = new int[(w + 1) * (h + 1)];
        double total = 0;
        long inside = 0;
        small.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < h; y++)
            {
                var row = rows.GetRowSpan(y);
                double rowSum = 0;
                int rowCount = 0;
                for (int x = 0; x < w; x++)
                {
                    float dx = x + 0.5f - cx, dy = y + 0.5f - cy;
                    if (dx * dx + dy * dy <= r * r)
                    {
                        double v = row[x].R + row[x].G;
                        rowSum += v;
                        rowCount++;
                        total += v;
                        inside++;
                    }
                    sum[(y + 1) * (w + 1) + x + 1] = sum[y * (w + 1) + x + 1] + rowSum;
                    count[(y + 1) * (w + 1) + x + 1] = count[y * (w + 1) + x + 1] + rowCount;
                }
            }
        });
        if (inside == 0) return null;
        double mean = total / inside;

        // The disc is about a sixth of the fundus diameter across in a 45-50 degree field.
        int half = Math.Max(2, (int)Math.Round(r / 6));
        double best = double.MinValue;
        int bestX = 0, bestY = 0;
        for (int y = half; y < h - half; y++)
        {
            for (int x = half; x < w - half; x++)
            {
                float dx = x + 0.5f - cx, dy = y + 0.5f - cy;
                if (dx * dx + dy * dy > 0.8f * 0.8f * r * r) continue;
                int x0 = x - half, x1 = x + half + 1, y0 = y - half, y1 = y + half + 1;
                int n = count[y1 * (w + 1) + x1] - count[y0 * (w + 1) + x1] - count[y1 * (w + 1) + x0] + count[y0 * (w + 1) + x0];
                if (n < half * half) continue;
                double s = sum[y1 * (w + 1) + x1] - sum[y0 * (w + 1) + x1] - sum[y1 * (w + 1) + x0] + sum[y0 * (w + 1) + x0];
                if (s / n > best)
                {
                    best = s / n;
                    (bestX, bestY) = (x, y);
                }
            }
        }
        if (best == double.MinValue) return null;
        return new OpticDiscLocation((bestX + 0.5f) / scale, (bestY + 0.5f) / scale, (bestX + 0.5f - cx) / r, (float)(best / Math.Max(1, mean)));
    }
}
