using DrWeb.Ml.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Ml.Explain;

/// <summary>
/// A photograph's expert masks and vessel map carried onto a model's view: the <see cref="FundusRegions"/> that
/// heatmaps are measured against, and the masks themselves (any-pixel projection, by kind code) for drawing outlines.
/// </summary>
public sealed record MaskedView(FundusRegions Regions, IReadOnlyDictionary<string, bool[]> Masks, bool[] Vessels, int Size)
{
    /// <summary>Reads the masks (PNG files by kind code, pixel-aligned with the photograph), finds the vessels and projects both onto <paramref name="view"/>.</summary>
    public static MaskedView Load(IReadOnlyDictionary<string, string> maskFiles, Image<Rgb24> photograph, ModelView view)
    {
        var masks = maskFiles.ToDictionary(m => m.Key, m => ReadMask(m.Value, photograph.Width, photograph.Height), StringComparer.Ordinal);
        var vessels = VesselSegmentation.Segment(photograph);
        var geometry = ViewGeometry.Of(view, photograph.Width, photograph.Height);
        return new MaskedView(FundusRegions.Build(masks, vessels, geometry),
            masks.ToDictionary(m => m.Key, m => geometry.ProjectAny(m.Value), StringComparer.Ordinal),
            geometry.ProjectAny(vessels.Vessels), geometry.Size);
    }

    /// <summary>A mask PNG as a row-major bool array: any non-zero pixel is marked.</summary>
    public static bool[] ReadMask(string path, int width, int height)
    {
        using var mask = Image.Load<L8>(path);
        if (mask.Width != width || mask.Height != height)
            throw new InvalidDataException($"{Path.GetFileName(path)} is {mask.Width}x{mask.Height}; its photograph is {width}x{height}. Masks must be pixel-aligned with their photograph.");
        var values = new L8[width * height];
        mask.CopyPixelDataTo(values);
        return values.Select(v => v.PackedValue > 0).ToArray();
    }
}
