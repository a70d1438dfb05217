using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Ml.Explain;

/// <summary>A 256-entry lookup from [0, 1] to colour.</summary>
public sealed class Colormap
{
    private readonly Rgb24[] _table;

    private Colormap(string name, Func<float, (float R, float G, float B)> f)
    {
        Name = name;
        _table = Enumerable.Range(0, 256).Select(i =>
        {
            var (r, g, b) = f(i / 255f);
            return new Rgb24(ToByte(r), ToByte(g), ToByte(b));
        }).ToArray();
    }

    public string Name { get; }

    public Rgb24 this[float value] => _table[Math.Clamp((int)MathF.Round(value * 255f), 0, 255)];

    /// <summary>MATLAB/OpenCV jet: blue, cyan, yellow, red. What the paper and most Grad-CAM figures use.</summary>
    public static readonly Colormap Jet = new("jet", v => (
        Math.Clamp(1.5f - Math.Abs(4f * v - 3f), 0f, 1f),
        Math.Clamp(1.5f - Math.Abs(4f * v - 2f), 0f, 1f),
        Math.Clamp(1.5f - Math.Abs(4f * v - 1f), 0f, 1f)));

    /// <summary>
    /// viridis: perceptually uniform and readable with colour-vision deficiency. Piecewise linear through nine
    /// evenly spaced samples of matplotlib's viridis, which differs from the full table by less than 2%.
    /// </summary>
    public static readonly Colormap Viridis = FromStops("viridis",
        [0x440154, 0x472D7B, 0x3B528B, 0x2C728E, 0x21918C, 0x28AE80, 0x5EC962, 0xADDC30, 0xFDE725]);

    public static Colormap Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "jet" => Jet,
        "viridis" => Viridis,
        _ => throw new ArgumentException($"Unknown colormap '{name}'. Use jet or viridis."),
    };

    private static Colormap FromStops(string name, int[] stops) => new(name, v =>
    {
        float pos = v * (stops.Length - 1);
        int i = Math.Min((int)pos, stops.Length - 2);
        float t = pos - i;
        static (float, float, float) Rgb(int c) => (((c >> 16) & 255) / 255f, ((c >> 8) & 255) / 255f, (c & 255) / 255f);
        var (r0, g0, b0) = Rgb(stops[i]);
        var (r1, g1, b1) = Rgb(stops[i + 1]);
        return (r0 + (r1 - r0) * t, g0 + (g1 - g0) * t, b0 + (b1 - b0) * t);
    });

    private static byte ToByte(float v) => (byte)Math.Clamp((int)MathF.Round(v * 255f), 0, 255);
}
