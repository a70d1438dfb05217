namespace DrWeb.Ml.Explain;

/// <summary>A single-channel map, row-major, height x width. Held in managed memory so callers never own tensors.</summary>
public sealed record HeatMap(int Height, int Width, float[] Values)
{
    public float this[int y, int x] => Values[y * Width + x];

    /// <summary>Bilinear resampling with PyTorch's <c>align_corners=False</c> convention (pixel centres, edge clamp).</summary>
    public HeatMap Resize(int height, int width)
    {
        var result = new float[height * width];
        float sy = (float)Height / height, sx = (float)Width / width;
        var x0 = new int[width];
        var x1 = new int[width];
        var wx = new float[width];
        for (int x = 0; x < width; x++)
        {
            float src = Math.Max((x + 0.5f) * sx - 0.5f, 0f);
            x0[x] = Math.Min((int)src, Width - 1);
            x1[x] = Math.Min(x0[x] + 1, Width - 1);
            wx[x] = src - x0[x];
        }
        for (int y = 0; y < height; y++)
        {
            float src = Math.Max((y + 0.5f) * sy - 0.5f, 0f);
            int y0 = Math.Min((int)src, Height - 1), y1 = Math.Min(y0 + 1, Height - 1);
            float wy = src - y0;
            int r0 = y0 * Width, r1 = y1 * Width, row = y * width;
            for (int x = 0; x < width; x++)
            {
                float top = Values[r0 + x0[x]] + (Values[r0 + x1[x]] - Values[r0 + x0[x]]) * wx[x];
                float bottom = Values[r1 + x0[x]] + (Values[r1 + x1[x]] - Values[r1 + x0[x]]) * wx[x];
                result[row + x] = top + (bottom - top) * wy;
            }
        }
        return new HeatMap(height, width, result);
    }

    /// <summary>The pixel-wise mean of maps of one size.</summary>
    public static HeatMap Average(IReadOnlyList<HeatMap> maps)
    {
        if (maps.Count == 0) throw new ArgumentException("Average at least one map.", nameof(maps));
        var (h, w) = (maps[0].Height, maps[0].Width);
        if (maps.Any(m => m.Height != h || m.Width != w))
            throw new ArgumentException("Maps of different sizes cannot be averaged; resize them first.", nameof(maps));
        var sum = new float[h * w];
        foreach (var map in maps)
            for (int i = 0; i < sum.Length; i++) sum[i] += map.Values[i];
        for (int i = 0; i < sum.Length; i++) sum[i] /= maps.Count;
        return new HeatMap(h, w, sum);
    }

    /// <summary>Scales to [0, 1]. A constant map (e.g. all zero after ReLU) becomes all zero rather than NaN.</summary>
    public HeatMap Normalised()
    {
        float min = Values.Min(), max = Values.Max(), range = max - min;
        var result = new float[Values.Length];
        if (range > 1e-12f)
            for (int i = 0; i < result.Length; i++) result[i] = (Values[i] - min) / range;
        return new HeatMap(Height, Width, result);
    }
}
