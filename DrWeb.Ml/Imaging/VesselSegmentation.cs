using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Ml.Imaging;

/// <summary>A photograph's fundus and vessel masks (row-major, the photograph's size).</summary>
public sealed record VesselMap(int Width, int Height, bool[] Fundus, bool[] Vessels)
{
    public double VesselShareOfFundus => Fundus.Count(f => f) is int n and > 0 ? (double)Vessels.Count(v => v) / n : 0;
}

/// <summary>
/// Retinal vessels by a classical filter, for telling where a heatmap falls when no expert vessel mask exists.
/// Vessels are thin structures darker than their surroundings in the green channel, where their contrast is highest.
/// The filter is a multi-scale black top-hat (Zana and Klein 2001, in a simplified form): the green channel, smoothed
/// 3 x 3, is closed with squares of three widths (1/100, 1/60 and 1/40 of the fundus's width, so about 12-33 px on a
/// 1,400 px photograph); closing fills dark structures narrower than the square, so closing minus image is large on
/// vessels. The largest response over the widths is thresholded by Otsu's method inside the fundus, and connected
/// pieces smaller than (fundus width / 60)^2 pixels are dropped as noise. Haemorrhages and microaneurysms are dark
/// too and are found as well; callers that also have lesion masks let the lesions take precedence. The fundus is
/// where the brightest channel exceeds 15 of 255 (a camera's black surround), eroded by the largest width so the
/// edge of the field of view is not taken for a vessel.
/// </summary>
public static class VesselSegmentation
{
    public const int FundusThreshold = 15;

    public static VesselMap Segment(Image<Rgb24> photograph)
    {
        int w = photograph.Width, h = photograph.Height, n = w * h;
        var pixels = new Rgb24[n];
        photograph.CopyPixelDataTo(pixels);
        var fundus = new bool[n];
        var green = new float[n];
        double greenSum = 0;
        int fundusCount = 0, minX = w, maxX = -1;
        for (int i = 0; i < n; i++)
        {
            var p = pixels[i];
            fundus[i] = Math.Max(p.R, Math.Max(p.G, p.B)) > FundusThreshold;
            green[i] = p.G;
            if (!fundus[i]) continue;
            greenSum += p.G;
            fundusCount++;
            int x = i % w;
            minX = Math.Min(minX, x);
            maxX = Math.Max(maxX, x);
        }
        if (fundusCount == 0) return new VesselMap(w, h, fundus, new bool[n]);

        // The surround takes the fundus's mean green, so that its dark edge does not read as a vessel.
        float meanGreen = (float)(greenSum / fundusCount);
        for (int i = 0; i < n; i++) if (!fundus[i]) green[i] = meanGreen;
        green = BoxBlur3(green, w, h);

        int fundusWidth = maxX - minX + 1;
        var widths = new[] { 100, 60, 40 }.Select(d => Math.Max(3, fundusWidth / d | 1)).ToArray();
        var response = new float[n];
        foreach (int size in widths)
        {
            var closed = Erode(Dilate(green, w, h, size), w, h, size);
            for (int i = 0; i < n; i++) response[i] = Math.Max(response[i], closed[i] - green[i]);
        }

        var inner = ErodeMask(fundus, w, h, widths[^1]);
        float threshold = Otsu(response, inner);
        var vessels = new bool[n];
        for (int i = 0; i < n; i++) vessels[i] = inner[i] && response[i] > threshold;
        int minimumPiece = Math.Max(4, (fundusWidth / 60) * (fundusWidth / 60));
        DropSmallPieces(vessels, w, h, minimumPiece);
        return new VesselMap(w, h, fundus, vessels);
    }

    private static float[] BoxBlur3(float[] values, int w, int h)
    {
        var result = new float[values.Length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float sum = 0;
                int count = 0;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int yy = y + dy, xx = x + dx;
                        if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                        sum += values[yy * w + xx];
                        count++;
                    }
                result[y * w + x] = sum / count;
            }
        return result;
    }

    private static float[] Dilate(float[] values, int w, int h, int size) => Separable(values, w, h, size, Math.Max);
    private static float[] Erode(float[] values, int w, int h, int size) => Separable(values, w, h, size, Math.Min);

    /// <summary>A square max or min filter as a row pass then a column pass (a square is separable).</summary>
    private static float[] Separable(float[] values, int w, int h, int size, Func<float, float, float> pick)
    {
        var rows = new float[values.Length];
        var line = new float[Math.Max(w, h)];
        var output = new float[Math.Max(w, h)];
        for (int y = 0; y < h; y++)
        {
            Array.Copy(values, y * w, line, 0, w);
            Window(line, w, size, pick, output);
            Array.Copy(output, 0, rows, y * w, w);
        }
        var result = new float[values.Length];
        for (int x = 0; x < w; x++)
        {
            for (int y = 0; y < h; y++) line[y] = rows[y * w + x];
            Window(line, h, size, pick, output);
            for (int y = 0; y < h; y++) result[y * w + x] = output[y];
        }
        return result;
    }

    /// <summary>
    /// The max (or min) over a centred window of <paramref name="size"/> for each position, by van Herk / Gil-Werman's
    /// prefix and suffix blocks: three comparisons per value whatever the size.
    /// </summary>
    private static void Window(float[] line, int length, int size, Func<float, float, float> pick, float[] output)
    {
        int half = size / 2;
        var prefix = new float[length];
        var suffix = new float[length];
        for (int i = 0; i < length; i++)
            prefix[i] = i % size == 0 ? line[i] : pick(prefix[i - 1], line[i]);
        for (int i = length - 1; i >= 0; i--)
            suffix[i] = i % size == size - 1 || i == length - 1 ? line[i] : pick(suffix[i + 1], line[i]);
        for (int i = 0; i < length; i++)
        {
            int start = Math.Max(0, i - half), end = Math.Min(length - 1, i + half);
            output[i] = pick(suffix[start], prefix[end]);
            // A window within one block: the suffix from start already covers it up to the block's end, beyond end.
            if (start / size == end / size)
            {
                float value = line[start];
                for (int k = start + 1; k <= end; k++) value = pick(value, line[k]);
                output[i] = value;
            }
        }
    }

    private static bool[] ErodeMask(bool[] mask, int w, int h, int size)
    {
        var values = mask.Select(m => m ? 1f : 0f).ToArray();
        return Erode(values, w, h, size).Select(v => v > 0.5f).ToArray();
    }

    /// <summary>Otsu's threshold of <paramref name="values"/> where <paramref name="within"/> holds, over 256 bins.</summary>
    private static float Otsu(float[] values, bool[] within)
    {
        float max = 0;
        for (int i = 0; i < values.Length; i++) if (within[i]) max = Math.Max(max, values[i]);
        if (max <= 0) return float.MaxValue;
        var histogram = new long[256];
        for (int i = 0; i < values.Length; i++)
            if (within[i]) histogram[Math.Min(255, (int)(values[i] / max * 255))]++;
        return (FundusCrop.Otsu(histogram) + 1) / 255f * max;
    }

    /// <summary>Clears 8-connected pieces of <paramref name="mask"/> with fewer than <paramref name="minimum"/> pixels.</summary>
    private static void DropSmallPieces(bool[] mask, int w, int h, int minimum)
    {
        var seen = new bool[mask.Length];
        var piece = new List<int>();
        var stack = new Stack<int>();
        for (int start = 0; start < mask.Length; start++)
        {
            if (!mask[start] || seen[start]) continue;
            piece.Clear();
            stack.Push(start);
            seen[start] = true;
            while (stack.Count > 0)
            {
                int i = stack.Pop();
                piece.Add(i);
                int y = i / w, x = i % w;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int yy = y + dy, xx = x + dx;
                        if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                        int j = yy * w + xx;
                        if (mask[j] && !seen[j]) { seen[j] = true; stack.Push(j); }
                    }
            }
            if (piece.Count < minimum)
                foreach (int i in piece) mask[i] = false;
        }
    }
}
