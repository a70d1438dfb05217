namespace DrWeb.Ml.Imaging;

/// <summary>
/// Where each pixel of a model's square view comes from in the photograph: view column u covers the photograph's
/// columns [Left + u * ScaleX, Left + (u + 1) * ScaleX), and rows likewise. It carries pixel masks drawn on the
/// photograph (expert lesion outlines, a vessel map) onto the view, so they can be compared with heatmaps there.
/// </summary>
public sealed record ViewGeometry(int Size, double Left, double Top, double ScaleX, double ScaleY, int SourceWidth, int SourceHeight)
{
    /// <summary>The geometry of <paramref name="view"/>, made from a photograph of the given size.</summary>
    public static ViewGeometry Of(ModelView view, int sourceWidth, int sourceHeight)
    {
        int size = view.Preprocessing.InputSize;
        if (!view.Preprocessing.CropFundus)
            return new ViewGeometry(size, 0, 0, (double)sourceWidth / size, (double)sourceHeight / size, sourceWidth, sourceHeight);
        // The crop's square (FundusCrop.Crop): the circle's diameter plus the margin, centred on the circle.
        var circle = view.FieldOfView?.Circle ?? FundusCircle.WholeFrame(sourceWidth, sourceHeight);
        double side = circle.Diameter * (1 + 2 * FundusCrop.DefaultMargin);
        return new ViewGeometry(size, circle.CenterX - side / 2, circle.CenterY - side / 2, side / size, side / size, sourceWidth, sourceHeight);
    }

    /// <summary>
    /// A photograph-sized mask (row-major, SourceWidth x SourceHeight) on the view: a view pixel is marked when any
    /// photograph pixel it covers is, so a one-pixel lesion never vanishes when the view is smaller.
    /// </summary>
    public bool[] ProjectAny(bool[] mask) => ProjectFraction(mask).Select(f => f > 0).ToArray();

    /// <summary>
    /// The share of each view pixel's photograph pixels that <paramref name="mask"/> marks (0..1). Shares of a partition
    /// of the photograph add up, pixel by pixel, to the share of the view that lies on the photograph.
    /// </summary>
    public float[] ProjectFraction(bool[] mask)
    {
        if (mask.Length != SourceWidth * SourceHeight)
            throw new ArgumentException($"The mask has {mask.Length} pixels; the photograph {SourceWidth}x{SourceHeight}.", nameof(mask));
        // Summed-area table: each view pixel's count of marked photograph pixels in O(1).
        int w = SourceWidth, h = SourceHeight;
        var sum = new int[(w + 1) * (h + 1)];
        for (int y = 0; y < h; y++)
        {
            int row = 0;
            for (int x = 0; x < w; x++)
            {
                if (mask[y * w + x]) row++;
                sum[(y + 1) * (w + 1) + x + 1] = sum[y * (w + 1) + x + 1] + row;
            }
        }
        var view = new float[Size * Size];
        for (int v = 0; v < Size; v++)
        {
            var (y0, y1, ny) = Span(Top, ScaleY, v, h);
            if (y0 >= y1) continue;
            for (int u = 0; u < Size; u++)
            {
                var (x0, x1, nx) = Span(Left, ScaleX, u, w);
                if (x0 >= x1) continue;
                int count = sum[y1 * (w + 1) + x1] - sum[y0 * (w + 1) + x1] - sum[y1 * (w + 1) + x0] + sum[y0 * (w + 1) + x0];
                view[v * Size + u] = (float)count / (nx * ny);
            }
        }
        return view;
    }

    /// <summary>A photograph-sized mask on the view, each view pixel taking the photograph pixel under its centre (black outside the photograph).</summary>
    public bool[] ProjectCentre(bool[] mask)
    {
        if (mask.Length != SourceWidth * SourceHeight)
            throw new ArgumentException($"The mask has {mask.Length} pixels; the photograph {SourceWidth}x{SourceHeight}.", nameof(mask));
        var view = new bool[Size * Size];
        for (int v = 0; v < Size; v++)
        {
            int y = (int)Math.Floor(Top + (v + 0.5) * ScaleY);
            if (y < 0 || y >= SourceHeight) continue;
            for (int u = 0; u < Size; u++)
            {
                int x = (int)Math.Floor(Left + (u + 0.5) * ScaleX);
                if (x >= 0 && x < SourceWidth) view[v * Size + u] = mask[y * SourceWidth + x];
            }
        }
        return view;
    }

    /// <summary>
    /// The photograph's pixels [start, end) under view pixel <paramref name="index"/>, clipped to the photograph, and
    /// how many pixels the span has before clipping (a view pixel half off the photograph is half covered).
    /// </summary>
    private static (int Start, int End, int Length) Span(double origin, double scale, int index, int length)
    {
        int start = (int)Math.Floor(origin + index * scale + 1e-9);
        int end = (int)Math.Ceiling(origin + (index + 1) * scale - 1e-9);
        if (end <= start) end = start + 1;
        return (Math.Clamp(start, 0, length), Math.Clamp(end, 0, length), end - start);
    }
}
