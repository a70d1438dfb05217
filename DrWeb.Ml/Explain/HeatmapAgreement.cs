namespace DrWeb.Ml.Explain;

/// <summary>A region's share of a heatmap's mass and of the view's area; their ratio is the enrichment (1 = no preference).</summary>
public sealed record RegionShare(string Region, double EnergyShare, double AreaShare)
{
    public double Enrichment => AreaShare > 0 ? EnergyShare / AreaShare : double.NaN;
}

/// <summary>How one heatmap falls on one photograph's regions.</summary>
/// <param name="Regions">The exclusive regions (lesions, optic disc, vessels, background, outside the fundus; they add up to 1), then each lesion kind present.</param>
/// <param name="PointingHit">Whether the heatmap's peak lies within <see cref="HeatmapAgreement.PointingTolerance"/> view pixels of a lesion; null without lesions.</param>
/// <param name="PeakRegion">The exclusive region under the peak.</param>
/// <param name="LesionAuroc">The heatmap's values as a lesion detector: AUROC of lesion pixels against the fundus's other pixels; NaN when either is empty.</param>
/// <param name="PointingChance">The pointing game's chance level: the share of fundus pixels within the tolerance of a lesion, i.e. how often a
/// peak dropped at random on the fundus would hit; NaN without lesions.</param>
public sealed record LesionAgreement(IReadOnlyList<RegionShare> Regions, bool? PointingHit, string PeakRegion, double LesionAuroc, double PointingChance)
{
    public RegionShare this[string region] => Regions.First(r => r.Region == region);
}

/// <summary>
/// Measures where a heatmap falls relative to expert masks, on the model's view (the heatmap's own geometry):
/// the energy share of each region (Σ heatmap x cover / Σ heatmap), compared with the region's share of the view's
/// area; the pointing game; and the heatmap as a lesion detector.
/// </summary>
public static class HeatmapAgreement
{
    /// <summary>
    /// The pointing game's tolerance, in view pixels (Chebyshev distance): 3 px of a 224 px view is 1.3% of its width,
    /// about 20 px on a 1,400 px photograph, less than the heatmap's own cell (a 7 x 7 map's cell is 32 view pixels).
    /// </summary>
    public const int PointingTolerance = 3;

    public static LesionAgreement Measure(HeatMap map, FundusRegions regions, int tolerance = PointingTolerance)
    {
        int size = regions.Size;
        if (map.Height != size || map.Width != size)
            throw new ArgumentException($"The heatmap is {map.Height}x{map.Width}; the regions {size}x{size}. Resize the heatmap to the view first.", nameof(map));
        float[] h = map.Values;
        double mass = 0;
        foreach (float v in h) mass += v;
        double area = (double)size * size;

        RegionShare Share(string name, float[] cover)
        {
            double energy = 0, covered = 0;
            for (int i = 0; i < h.Length; i++) { energy += h[i] * (double)cover[i]; covered += cover[i]; }
            return new RegionShare(name, mass > 0 ? energy / mass : double.NaN, covered / area);
        }
        var shares = regions.Partition().Select(r => Share(r.Region, r.Cover)).ToList();
        shares.AddRange(regions.ByKind.Select(k => Share(k.Key, k.Value)));

        int peak = 0;
        for (int i = 1; i < h.Length; i++) if (h[i] > h[peak]) peak = i;
        bool anyLesion = regions.LesionPixels.Any(l => l);
        bool? hit = anyLesion ? NearLesion(regions.LesionPixels, size, peak, tolerance) : null;
        double chance = double.NaN;
        if (anyLesion)
        {
            int near = 0, fundus = 0;
            for (int i = 0; i < h.Length; i++)
            {
                if (!regions.FundusPixels[i]) continue;
                fundus++;
                if (NearLesion(regions.LesionPixels, size, i, tolerance)) near++;
            }
            chance = fundus > 0 ? (double)near / fundus : double.NaN;
        }
        string peakRegion = regions.LesionPixels[peak]
            ? FundusRegions.LesionRegion
            : regions.Partition().Skip(1).MaxBy(r => r.Cover[peak]).Region;
        return new LesionAgreement(shares, hit, peakRegion, LesionAuroc(h, regions), chance);
    }

    private static bool NearLesion(bool[] lesions, int size, int peak, int tolerance)
    {
        int py = peak / size, px = peak % size;
        for (int y = Math.Max(0, py - tolerance); y <= Math.Min(size - 1, py + tolerance); y++)
            for (int x = Math.Max(0, px - tolerance); x <= Math.Min(size - 1, px + tolerance); x++)
                if (lesions[y * size + x]) return true;
        return false;
    }

    /// <summary>Mann-Whitney AUROC of heatmap values: lesion pixels against the fundus's pixels without lesion; ties count half.</summary>
    public static double LesionAuroc(float[] heatmap, FundusRegions regions)
    {
        var values = new List<float>();
        var positive = new List<bool>();
        for (int i = 0; i < heatmap.Length; i++)
        {
            if (regions.LesionPixels[i]) { values.Add(heatmap[i]); positive.Add(true); }
            else if (regions.FundusPixels[i]) { values.Add(heatmap[i]); positive.Add(false); }
        }
        long positives = positive.Count(p => p), negatives = positive.Count - positives;
        if (positives == 0 || negatives == 0) return double.NaN;
        double[] ranks = SanityCheck.Ranks(values.ToArray());
        double rankSum = 0;
        for (int i = 0; i < ranks.Length; i++) if (positive[i]) rankSum += ranks[i];
        return (rankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }
}
