using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DrWeb.Ml.Imaging;

/// <summary>
/// The circular field of view of a fundus photograph, in the photograph's own pixels. The circle may reach past the
/// frame: EyePACS cameras often clip it at the top and bottom.
/// </summary>
public sealed record FundusCircle(float CenterX, float CenterY, float Radius, int ImageWidth, int ImageHeight)
{
    public float Diameter => 2 * Radius;

    /// <summary>Share of the frame's shorter side that the circle's diameter spans.</summary>
    public float FieldShare => Diameter / Math.Min(ImageWidth, ImageHeight);

    /// <summary>The circle whose crop (with <paramref name="margin"/>) is exactly the frame squared: for images that are already crops.</summary>
    public static FundusCircle WholeFrame(int width, int height, float margin = FundusCrop.DefaultMargin) =>
        new(width / 2f, height / 2f, Math.Max(width, height) / (2 * (1 + 2 * margin)), width, height);
}

/// <summary>Where the field of view is: a circle found in the photograph, or the whole frame of an image that already is a crop.</summary>
public sealed record FundusLocation(FundusCircle Circle, bool AlreadyCropped);

/// <summary>The fundus as the model sees it, and where it was found in the photograph.</summary>
public sealed record FundusView(Image<Rgb24> Image, FundusCircle Circle, bool AlreadyCropped) : IDisposable
{
    public FundusLocation Location => new(Circle, AlreadyCropped);

    public void Dispose() => Image.Dispose();
}

/// <summary>
/// Finds the fundus in a photograph and crops a square around it. Detection works on a copy about
/// <see cref="AnalysisSize"/> pixels wide: it thresholds the black surround, takes the left and right (and unclipped
/// top and bottom) edges of the bright field row by row and column by column, and fits a circle to those edge points by
/// least squares, twice discarding points far from the fit (bright rim artefacts, notches). A circle that does not
/// explain the bright area is no fundus.
/// </summary>
public static class FundusCrop
{
    public const int AnalysisSize = 384;

    /// <summary>Extra border around the circle in the crop, as a share of the diameter.</summary>
    public const float DefaultMargin = 0.02f;

    /// <summary>The downscaled brightness (max channel) that detection works on, made once per photograph.</summary>
    private sealed class Analysis
    {
        public Analysis(Image<Rgb24> image)
        {
            Scale = Math.Min(1f, AnalysisSize / (float)Math.Max(image.Width, image.Height));
            W = Math.Max(1, (int)Math.Round(image.Width * Scale));
            H = Math.Max(1, (int)Math.Round(image.Height * Scale));
            using var small = image.Clone(x => x.Resize(W, H, KnownResamplers.Box));
            Value = MaxChannel(small);
            _smooth = new Lazy<byte[]>(() => Smooth(Value, W, H, radius: 2));
        }

        private readonly Lazy<byte[]> _smooth;
        public float Scale { get; }
        public int W { get; }
        public int H { get; }
        public byte[] Value { get; }
        public byte[] Smoothed => _smooth.Value;
    }

    public static FundusCircle? Detect(Image<Rgb24> image) => Detect(image, new Analysis(image));

    private static FundusCircle? Detect(Image<Rgb24> image, Analysis a)
    {
        var (value, w, h, scale) = (a.Value, a.W, a.H, a.Scale);
        // A clean black surround (camera photographs) separates at a threshold just above the corners' level. A
        // contrast-enhanced crop has speckle in its surround instead; smoothing it away and splitting the histogram
        // (Otsu) finds the field there.
        var circle = Fit(value, w, h, Threshold(value, w, h));
        if (circle is null)
            circle = Fit(a.Smoothed, w, h, Otsu(a.Smoothed));
        return circle is null ? null
            : new FundusCircle(circle.Value.X / scale, circle.Value.Y / scale, circle.Value.R / scale, image.Width, image.Height);
    }

    /// <summary>
    /// Whether the picture is already a crop: across the middle of the frame the field reaches (within 3%) both the
    /// left and the right edge, so there is no surround to cut away. Cropping such an image again would only shrink it,
    /// which is how the crop stays idempotent on fundus-dev's 256 px crops and on its own output.
    /// </summary>
    public static bool FillsFrame(Image<Rgb24> image) => FillsFrame(new Analysis(image));

    private static bool FillsFrame(Analysis a)
    {
        var (smooth, w, h) = (a.Smoothed, a.W, a.H);
        int t = Threshold(smooth, w, h);
        // Along the middle fifth of the frame, does the field come within 3% of each edge (a crop's own margin is 2%)? A crop reaches left and right,
        // or three edges when a dark stretch of rim misses one; a camera photograph has surround left and right.
        int Reached(Func<int, (int Left, int Right)> extent, int from, int to, int length)
        {
            int lines = 0, left = 0, right = 0;
            for (int i = from; i < to; i++, lines++)
            {
                var (l, r) = extent(i);
                if (l >= 0 && l <= 0.03 * length) left++;
                if (r >= 0 && r >= 0.97 * length) right++;
            }
            return (left >= 0.5 * lines ? 1 : 0) + (right >= 0.5 * lines ? 1 : 0);
        }
        int horizontal = Reached(y => (Array.FindIndex(smooth, y * w, w, v => v > t) is var a and >= 0 ? a - y * w : -1,
                                  Array.FindLastIndex(smooth, y * w + w - 1, w, v => v > t) is var b and >= 0 ? b - y * w : -1),
                        (int)(0.4 * h), (int)(0.6 * h), w - 1);
        int vertical = Reached(x =>
                    {
                        int top = -1, bottom = -1;
                        for (int y = 0; y < h; y++) if (smooth[y * w + x] > t) { top = y; break; }
                        for (int y = h - 1; y >= 0; y--) if (smooth[y * w + x] > t) { bottom = y; break; }
                        return (top, bottom);
                    }, (int)(0.4 * w), (int)(0.6 * w), h - 1);
        // Letterboxed crops (black bands above and below a clipped circle) reach left and right only.
        if (!(horizontal == 2 || horizontal + vertical >= 3)) return false;
        // A round field leaves its frame's corners dark (black, or speckle in an enhanced crop); a gradient, a page of
        // text or any ordinary picture that fills the frame does not.
        double centre = Mean(smooth, w, w / 3, h / 3, w / 3, h / 3);
        int c = Math.Max(2, Math.Min(w, h) / 12);
        int darkCorners = new[] { (0, 0), (w - c, 0), (0, h - c), (w - c, h - c) }.Count(p => Mean(smooth, w, p.Item1, p.Item2, c, c) < 0.5 * centre);
        return darkCorners >= 3;
    }

    private static double Mean(byte[] value, int stride, int x0, int y0, int width, int height)
    {
        double sum = 0;
        for (int y = y0; y < y0 + height; y++)
            for (int x = x0; x < x0 + width; x++) sum += value[y * stride + x];
        return sum / (width * height);
    }

    private static byte[] MaxChannel(Image<Rgb24> small)
    {
        var value = new byte[small.Width * small.Height];
        small.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++) value[y * rows.Width + x] = Math.Max(row[x].R, Math.Max(row[x].G, row[x].B));
            }
        });
        return value;
    }

    /// <summary>The brightness below which a pixel counts as the camera's black surround.</summary>
    internal static int Threshold(byte[] value, int w, int h)
    {
        // The corners are surround in every fundus photograph (and in a crop whose circle touches the frame);
        // their brightest typical value plus a margin separates them from even a dark fundus.
        int c = Math.Max(2, Math.Min(w, h) / 12);
        var corner = new List<byte>(4 * c * c);
        foreach (var (x0, y0) in new[] { (0, 0), (w - c, 0), (0, h - c), (w - c, h - c) })
            for (int y = y0; y < y0 + c; y++)
                for (int x = x0; x < x0 + c; x++) corner.Add(value[y * w + x]);
        corner.Sort();
        int background = corner[(int)(corner.Count * 0.9)];
        return Math.Clamp(background + 12, 16, 60);
    }

    /// <summary>Box-smoothed copy (separable, clamped at the edges).</summary>
    internal static byte[] Smooth(byte[] value, int w, int h, int radius)
    {
        var horizontal = new byte[value.Length];
        var result = new byte[value.Length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int sum = 0, n = 0;
                for (int k = Math.Max(0, x - radius); k <= Math.Min(w - 1, x + radius); k++) { sum += value[y * w + k]; n++; }
                horizontal[y * w + x] = (byte)(sum / n);
            }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int sum = 0, n = 0;
                for (int k = Math.Max(0, y - radius); k <= Math.Min(h - 1, y + radius); k++) { sum += horizontal[k * w + x]; n++; }
                result[y * w + x] = (byte)(sum / n);
            }
        return result;
    }

    /// <summary>Otsu's threshold of 8-bit values: the split of their histogram with the largest between-class variance.</summary>
    internal static int Otsu(byte[] value)
    {
        var histogram = new long[256];
        foreach (byte v in value) histogram[v]++;
        return Otsu(histogram);
    }

    /// <summary>
    /// Otsu's threshold of a histogram: the bin t for which splitting into bins &lt;= t and &gt; t gives the largest
    /// between-class variance.
    /// </summary>
    internal static int Otsu(long[] histogram)
    {
        long total = 0;
        double sumAll = 0;
        for (int i = 0; i < histogram.Length; i++) { total += histogram[i]; sumAll += i * (double)histogram[i]; }
        double sumBelow = 0, best = -1;
        long below = 0;
        int threshold = 0;
        for (int t = 0; t < histogram.Length; t++)
        {
            below += histogram[t];
            if (below == 0) continue;
            long above = total - below;
            if (above == 0) break;
            sumBelow += t * (double)histogram[t];
            double meanBelow = sumBelow / below, meanAbove = (sumAll - sumBelow) / above;
            double between = (double)below * above * (meanBelow - meanAbove) * (meanBelow - meanAbove);
            if (between > best) { best = between; threshold = t; }
        }
        return threshold;
    }

    private static (float X, float Y, float R)? Fit(byte[] value, int w, int h, int t)
    {
        bool Bright(int x, int y) => value[y * w + x] > t;
        // An edge needs a few bright pixels in a row, so that JPEG noise in the surround does not count.
        const int run = 3;
        bool Run(int x, int y, int dx, int dy)
        {
            for (int i = 0; i < run; i++)
                if (!Bright(x + i * dx, y + i * dy)) return false;
            return true;
        }
        var points = new List<(float X, float Y)>();
        int brightPixels = 0;
        for (int y = 0; y < h; y++)
        {
            int left = -1, right = -1;
            for (int x = 0; x + run <= w; x++)
                if (Run(x, y, 1, 0)) { left = x; break; }
            for (int x = w - 1; x - run + 1 >= 0; x--)
                if (Run(x - run + 1, y, 1, 0)) { right = x; break; }
            for (int x = 0; x < w; x++) if (Bright(x, y)) brightPixels++;
            if (left < 0 || right - left < w / 10) continue;
            if (left > 0) points.Add((left - 0.5f, y));
            if (right < w - 1) points.Add((right + 0.5f, y));
        }
        for (int x = 0; x < w; x++)
        {
            int top = -1, bottom = -1;
            for (int y = 0; y + run <= h; y++)
                if (Run(x, y, 0, 1)) { top = y; break; }
            for (int y = h - 1; y - run + 1 >= 0; y--)
                if (Run(x, y - run + 1, 0, 1)) { bottom = y; break; }
            if (top < 0 || bottom - top < h / 10) continue;
            // Where the frame clips the circle, the bright area ends at the frame, not at the circle.
            if (top > 0) points.Add((x, top - 0.5f));
            if (bottom < h - 1) points.Add((x, bottom + 0.5f));
        }
        if (points.Count < 12 || brightPixels < w * h / 20) return null;

        var fit = Kasa(points);
        for (int round = 0; round < 2 && fit is not null; round++)
        {
            var f = fit.Value;
            var residuals = points.Select(p => Math.Abs(Distance(p, f) - f.R)).ToList();
            float limit = Math.Max(1.5f, 3 * Median(residuals));
            var kept = points.Where((p, i) => residuals[i] <= limit).ToList();
            if (kept.Count < 12) return null;
            points = kept;
            fit = Kasa(points);
        }
        if (fit is not { } circle) return null;
        if (circle.R < 0.15f * Math.Min(w, h) || circle.R > 0.75f * Math.Max(w, h)) return null;
        if (circle.X < 0 || circle.X > w || circle.Y < 0 || circle.Y > h) return null;
        return Explains(value, w, h, t, circle) ? circle : null;
    }

    /// <summary>A fundus circle is bright inside and dark outside; a gradient, text or a photo of something else is not.</summary>
    private static bool Explains(byte[] value, int w, int h, int t, (float X, float Y, float R) c)
    {
        int inside = 0, insideBright = 0, outside = 0, outsideBright = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float d = Distance((x, y), c);
                bool bright = value[y * w + x] > t;
                if (d < c.R * 0.97f) { inside++; if (bright) insideBright++; }
                else if (d > c.R * 1.03f) { outside++; if (bright) outsideBright++; }
            }
        return inside > 0 && insideBright >= 0.9 * inside && (outside == 0 || outsideBright <= 0.1 * outside);
    }

    /// <summary>Algebraic least-squares circle (Kåsa): solves x² + y² + Dx + Ey + F = 0 over all points.</summary>
    private static (float X, float Y, float R)? Kasa(List<(float X, float Y)> points)
    {
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, sxz = 0, syz = 0, sz = 0;
        foreach (var (x, y) in points)
        {
            double z = x * x + y * y;
            sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y; sxz += x * z; syz += y * z; sz += z;
        }
        int n = points.Count;
        // Normal equations for [D, E, F].
        double[,] a = { { sxx, sxy, sx }, { sxy, syy, sy }, { sx, sy, n } };
        double[] b = { -sxz, -syz, -sz };
        if (Solve3(a, b) is not { } s) return null;
        double cx = -s[0] / 2, cy = -s[1] / 2, r2 = cx * cx + cy * cy - s[2];
        return r2 <= 0 ? null : ((float)cx, (float)cy, (float)Math.Sqrt(r2));
    }

    private static double[]? Solve3(double[,] a, double[] b)
    {
        double det = Det(a);
        if (Math.Abs(det) < 1e-9) return null;
        var result = new double[3];
        for (int col = 0; col < 3; col++)
        {
            var m = (double[,])a.Clone();
            for (int row = 0; row < 3; row++) m[row, col] = b[row];
            result[col] = Det(m) / det;
        }
        return result;
    }

    private static double Det(double[,] m) =>
        m[0, 0] * (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1]) - m[0, 1] * (m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0]) + m[0, 2] * (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0]);

    private static float Distance((float X, float Y) p, (float X, float Y, float R) c) =>
        MathF.Sqrt((p.X - c.X) * (p.X - c.X) + (p.Y - c.Y) * (p.Y - c.Y));

    private static float Median(List<float> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[sorted.Count / 2];
    }

    /// <summary>
    /// The square, <paramref name="size"/>-pixel view of the fundus that a model should see: an image that already fills
    /// its frame is only squared and resized; otherwise the detected circle is cropped. Null when no fundus is found.
    /// Applying it to its own output changes nothing but the size.
    /// </summary>
    public static FundusView? Prepare(Image<Rgb24> image, int size, float margin = DefaultMargin)
    {
        var analysis = new Analysis(image);
        if (FillsFrame(analysis))
        {
            var frame = FundusCircle.WholeFrame(image.Width, image.Height, margin);
            return new FundusView(Crop(image, frame, size, margin), frame, AlreadyCropped: true);
        }
        return Detect(image, analysis) is { } circle ? new FundusView(Crop(image, circle, size, margin), circle, AlreadyCropped: false) : null;
    }

    /// <summary>
    /// A square of <paramref name="size"/> pixels around the circle with <paramref name="margin"/> to spare, black where
    /// the square reaches past the photograph.
    /// </summary>
    public static Image<Rgb24> Crop(Image<Rgb24> image, FundusCircle circle, int size, float margin = DefaultMargin)
    {
        float side = circle.Diameter * (1 + 2 * margin);
        float left = circle.CenterX - side / 2, top = circle.CenterY - side / 2;
        var source = Rectangle.Intersect(
            new Rectangle((int)MathF.Floor(left), (int)MathF.Floor(top), (int)MathF.Ceiling(side), (int)MathF.Ceiling(side)),
            new Rectangle(0, 0, image.Width, image.Height));
        float scale = size / side;
        var canvas = new Image<Rgb24>(size, size, new Rgb24(0, 0, 0));
        if (source.Width <= 0 || source.Height <= 0) return canvas;
        int width = Math.Max(1, (int)MathF.Round(source.Width * scale)), height = Math.Max(1, (int)MathF.Round(source.Height * scale));
        using var region = image.Clone(x => x.Crop(source).Resize(width, height));
        var at = new Point((int)MathF.Round((source.X - left) * scale), (int)MathF.Round((source.Y - top) * scale));
        canvas.Mutate(x => x.DrawImage(region, at, 1f));
        return canvas;
    }
}
