using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;

namespace DrWeb.Ml.Explain;

/// <summary>
/// Where the lesions, the optic disc and the vessels of a photograph lie on a model's square view, as the share of
/// each view pixel that each covers (0..1). <see cref="Lesions"/>, <see cref="OpticDisc"/>, <see cref="Vessels"/>,
/// <see cref="Background"/> (the rest of the fundus) and <see cref="Outside"/> (the camera's black surround and the
/// view's bars) partition every view pixel: a photograph pixel counts once, in that order of precedence, so a
/// haemorrhage that the vessel filter also found is a lesion. <see cref="ByKind"/> gives each lesion kind's own cover.
/// </summary>
public sealed class FundusRegions
{
    public const string LesionRegion = "lesions", OpticDiscRegion = "optic disc", VesselRegion = "vessels",
        BackgroundRegion = "background", OutsideRegion = "outside the fundus";

    public FundusRegions(int size, IReadOnlyDictionary<string, float[]> byKind, float[] lesions, float[] opticDisc, float[] vessels, float[] background)
    {
        int n = size * size;
        if (new[] { lesions, opticDisc, vessels, background }.Concat(byKind.Values).Any(a => a.Length != n))
            throw new ArgumentException($"Every region must have {size}x{size} values.");
        Size = size;
        ByKind = byKind;
        Lesions = lesions;
        OpticDisc = opticDisc;
        Vessels = vessels;
        Background = background;
        Outside = new float[n];
        LesionPixels = new bool[n];
        FundusPixels = new bool[n];
        for (int i = 0; i < n; i++)
        {
            Outside[i] = Math.Max(0, 1 - lesions[i] - opticDisc[i] - vessels[i] - background[i]);
            LesionPixels[i] = lesions[i] > 0;
            FundusPixels[i] = Outside[i] < 0.5f;
        }
    }

    public int Size { get; }
    public IReadOnlyDictionary<string, float[]> ByKind { get; }
    public float[] Lesions { get; }
    public float[] OpticDisc { get; }
    public float[] Vessels { get; }
    public float[] Background { get; }
    public float[] Outside { get; }

    /// <summary>View pixels touching any lesion pixel (a one-pixel lesion marks its view pixel).</summary>
    public bool[] LesionPixels { get; }

    /// <summary>View pixels that lie mostly on the fundus.</summary>
    public bool[] FundusPixels { get; }

    /// <summary>The exclusive regions with their cover, in order of precedence.</summary>
    public IEnumerable<(string Region, float[] Cover)> Partition()
    {
        yield return (LesionRegion, Lesions);
        yield return (OpticDiscRegion, OpticDisc);
        yield return (VesselRegion, Vessels);
        yield return (BackgroundRegion, Background);
        yield return (OutsideRegion, Outside);
    }

    /// <summary>
    /// The regions of a photograph (<paramref name="width"/> x <paramref name="height"/>) on a view: its expert masks
    /// by kind code (MA, HE, EX, SE, OD; each row-major, the photograph's size), its fundus and vessel map.
    /// </summary>
    public static FundusRegions Build(IReadOnlyDictionary<string, bool[]> masks, VesselMap vessels, ViewGeometry geometry)
    {
        int n = vessels.Width * vessels.Height;
        var lesion = new bool[n];
        var disc = new bool[n];
        var vessel = new bool[n];
        var background = new bool[n];
        var byKind = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var kind in LesionKinds.Lesions)
        {
            if (!masks.TryGetValue(kind, out var mask)) continue;
            if (mask.Length != n) throw new ArgumentException($"The {LesionKinds.Name(kind)} mask is not the photograph's size.");
            for (int i = 0; i < n; i++) lesion[i] |= mask[i];
            byKind[kind] = geometry.ProjectFraction(mask);
        }
        masks.TryGetValue(LesionKinds.OpticDisc, out var od);
        for (int i = 0; i < n; i++)
        {
            if (lesion[i]) continue;
            if (od is not null && od[i]) disc[i] = true;
            else if (vessels.Vessels[i]) vessel[i] = true;
            else if (vessels.Fundus[i]) background[i] = true;
        }
        return new FundusRegions(geometry.Size, byKind, geometry.ProjectFraction(lesion), geometry.ProjectFraction(disc),
            geometry.ProjectFraction(vessel), geometry.ProjectFraction(background));
    }
}
