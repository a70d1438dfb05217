using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DrWeb.Ml.Data;
using DrWeb.Ml.Explain;
using DrWeb.Ml.Manifest;

namespace DrWeb.Ml.Evaluation;

/// <summary>Writes an explanation study as <c>study.json</c>, <c>measurements.csv</c>, <c>report.html</c> and its figures.</summary>
public static class ExplanationStudyReport
{
    public const string SummaryFile = "study.json", MeasurementsFile = "measurements.csv", ReportFile = "report.html", FiguresFolder = "figures";

    /// <summary>The regions reported, in order: the exclusive ones, then each lesion kind.</summary>
    public static readonly IReadOnlyList<string> RegionOrder =
    [
        FundusRegions.LesionRegion, FundusRegions.OpticDiscRegion, FundusRegions.VesselRegion, FundusRegions.BackgroundRegion,
        FundusRegions.OutsideRegion, .. LesionKinds.Lesions,
    ];

    private static string F(double v, string format = "0.000") => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "";

    public static void Write(string folder, ExplanationStudyResult result)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, SummaryFile), JsonSerializer.Serialize(result, ModelManifest.Json));
        WriteCsv(Path.Combine(folder, MeasurementsFile), result);
        var figures = Path.Combine(folder, FiguresFolder);
        Directory.CreateDirectory(figures);
        foreach (var figure in result.Figures)
        {
            File.WriteAllBytes(Path.Combine(figures, $"{figure.Image}_view.png"), figure.View);
            if (figure.Outlines is { } o) File.WriteAllBytes(Path.Combine(figures, $"{figure.Image}_outlines.png"), o);
            if (figure.Vessels is { } v) File.WriteAllBytes(Path.Combine(figures, $"{figure.Image}_vessels.png"), v);
            foreach (var (method, png) in figure.Overlays) File.WriteAllBytes(Path.Combine(figures, $"{figure.Image}_{method}.png"), png);
        }
        File.WriteAllText(Path.Combine(folder, ReportFile), Html(result));
    }

    /// <summary>Reads a study written by <see cref="Write"/>; null when the folder has none or it cannot be read.</summary>
    public static ExplanationStudyResult? Read(string folder)
    {
        string path = Path.Combine(folder, SummaryFile);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<ExplanationStudyResult>(File.ReadAllText(path), ModelManifest.Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void WriteCsv(string path, ExplanationStudyResult result)
    {
        var regions = RegionOrder;
        var csv = new StringBuilder();
        csv.Append("image,method,true_grade,predicted_grade,p_referable,target_class,deletion_auc,insertion_auc,road_morf,sanity_rank_correlation,pointing_hit,peak_region,lesion_auroc");
        foreach (var r in regions) csv.Append($",energy_{Key(r)},area_{Key(r)}");
        csv.AppendLine(",seconds");
        foreach (var m in result.Measurements)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{m.Image},{m.Method},{m.TrueGrade},{m.PredictedGrade},{F(m.ReferableProbability, "0.0000")},{m.TargetClass},");
            csv.Append(CultureInfo.InvariantCulture, $"{F(m.DeletionAuc, "0.00000")},{F(m.InsertionAuc, "0.00000")},{F(m.RoadScore, "0.00000")},{F(m.SanityRankCorrelation, "0.0000")},");
            csv.Append(CultureInfo.InvariantCulture, $"{(m.Lesions?.PointingHit is { } hit ? (hit ? "1" : "0") : "")},{m.Lesions?.PeakRegion},{F(m.Lesions?.LesionAuroc ?? double.NaN, "0.0000")}");
            foreach (var r in regions)
            {
                var share = m.Lesions?.Regions.FirstOrDefault(s => s.Region == r);
                csv.Append(CultureInfo.InvariantCulture, $",{F(share?.EnergyShare ?? double.NaN, "0.00000")},{F(share?.AreaShare ?? double.NaN, "0.00000")}");
            }
            csv.AppendLine(CultureInfo.InvariantCulture, $",{F(m.Seconds, "0.00")}");
        }
        File.WriteAllText(path, csv.ToString());
    }

    private static string Key(string region) => region.Replace(' ', '_');

    public static string RegionLabel(string region) => LesionKinds.Lesions.Contains(region) ? LesionKinds.Name(region) : region;

    private static string Html(ExplanationStudyResult result)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var html = new StringBuilder();
        html.AppendLine("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Explanation study</title><style>");
        html.AppendLine("body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px}table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}figure{display:inline-block;margin:4px;text-align:center;font-size:12px}figure img{width:180px;image-rendering:pixelated}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}");
        html.AppendLine("</style></head><body>");
        html.AppendLine($"<h1>Explanation study</h1><p>Model <b>{E(result.Model)}</b>; photographs <b>{E(result.Dataset)}</b>; layer <code>{E(result.Layer)}</code>; " +
                        $"target <b>{E(result.Target)}</b>; {result.Measurements.Select(m => m.Image).Distinct().Count()} photographs; finished {result.FinishedUtc:yyyy-MM-dd HH:mm} UTC.</p>");
        html.AppendLine("<h2>Faithfulness and sanity</h2><table><tr><th>method</th><th>images</th><th>deletion AUC (lower is better)</th><th>insertion AUC (higher)</th>" +
                        "<th>ROAD, most relevant first (more negative is better)</th><th>rank correlation with the randomised model (lower passes)</th><th>s per image</th></tr>");
        foreach (var m in result.Methods)
            html.AppendLine($"<tr><td>{E(m.DisplayName)} (<code>{m.Method}</code>)</td><td>{m.Images}</td><td>{F(m.DeletionAuc)}</td><td>{F(m.InsertionAuc)}</td><td>{F(m.RoadScore, "0.0000")}</td>" +
                            $"<td>{F(m.SanityRankCorrelation)}{(m.SanityMapsVanished > 0 ? $" ({m.SanityMapsVanished} maps vanished)" : "")}</td><td>{F(m.SecondsPerImage, "0.0")}</td></tr>");
        html.AppendLine("</table><p>Deletion and insertion: the target's probability as the most salient pixels are set to zero (deletion) or revealed on a zero image (insertion), " +
                        $"{result.Steps} steps, trapezoid area. ROAD: the score change when the 80, 60, 40 and 20% most salient pixels are imputed from their neighbours, averaged. " +
                        (result.Randomised ? "Sanity: Spearman correlation of each map with the same method's map after the trained layers were randomised." : "The sanity check was not run.") + "</p>");

        if (result.Methods.Any(m => m.Regions.Count > 0))
        {
            html.AppendLine("<h2>Where the heatmap falls</h2><p>Energy share: the share of the heatmap's mass on a region; enrichment: that share over the region's share of the view's area " +
                            $"(1 = no preference); within the fundus: the same relative to the fundus as a whole, since a map that only avoids the black surround enriches every fundus region. Pointing game: the heatmap's peak within {HeatmapAgreement.PointingTolerance} view pixels of a lesion; chance is how often a point dropped at random on the fundus would be. Lesion AUROC: heatmap values of lesion pixels against the other fundus pixels.</p>");
            html.AppendLine("<table><tr><th>method</th><th>pointing game (chance)</th><th>lesion AUROC</th>" +
                            string.Concat(RegionOrder.Select(r => $"<th>{E(RegionLabel(r))}: energy / enrichment (within the fundus)</th>")) + "</tr>");
            foreach (var m in result.Methods)
            {
                html.Append($"<tr><td>{E(m.DisplayName)}</td><td>{m.PointingHits}/{m.PointingImages} ({F(m.PointingRate * 100, "0")}%; chance {F(m.PointingChance * 100, "0")}%)</td><td>{F(m.LesionAuroc)}</td>");
                foreach (var r in RegionOrder)
                {
                    var s = m.Regions.FirstOrDefault(x => x.Region == r);
                    html.Append(s is null ? "<td></td>" : $"<td>{F(s.EnergyShare)} / {F(s.Enrichment, "0.00")}x ({F(m.WithinFundus(r), "0.00")}x)</td>");
                }
                html.AppendLine("</tr>");
            }
            html.AppendLine("</table>");
        }

        if (result.Figures.Count > 0)
        {
            html.AppendLine("<h2>Examples</h2><p class=\"legend\">Outlines:" + string.Concat(LesionKinds.Lesions.Append(LesionKinds.OpticDisc)
                .Select(k => $"<span style=\"background:{LesionKinds.Colour(k)};border:1px solid #999\"></span>{E(LesionKinds.Name(k))}")) +
                $"<span style=\"background:{LesionKinds.VesselColour}\"></span>vessels (classical filter: multi-scale black top-hat on the green channel)</p>");
            foreach (var figure in result.Figures)
            {
                html.AppendLine($"<h3>{E(figure.Image)}</h3><div>");
                html.AppendLine($"<figure><img src=\"{FiguresFolder}/{figure.Image}_view.png\" alt=\"what the model saw\"><figcaption>model's view</figcaption></figure>");
                if (figure.Outlines is not null)
                    html.AppendLine($"<figure><img src=\"{FiguresFolder}/{figure.Image}_outlines.png\" alt=\"expert outlines\"><figcaption>expert outlines</figcaption></figure>");
                if (figure.Vessels is not null)
                    html.AppendLine($"<figure><img src=\"{FiguresFolder}/{figure.Image}_vessels.png\" alt=\"vessel filter\"><figcaption>vessel filter</figcaption></figure>");
                foreach (var method in figure.Overlays.Keys)
                {
                    var row = result.Measurements.FirstOrDefault(r => r.Image == figure.Image && r.Method == method);
                    string caption = row?.Lesions is { } l ? $"{method}: lesions {F(l[FundusRegions.LesionRegion].EnergyShare, "0.00")}, peak on {l.PeakRegion}" : method;
                    html.AppendLine($"<figure><img src=\"{FiguresFolder}/{figure.Image}_{method}.png\" alt=\"{method}\"><figcaption>{E(caption)}</figcaption></figure>");
                }
                html.AppendLine("</div>");
            }
        }
        html.AppendLine("<p>IDRiD lesion masks: Porwal et al., Indian Diabetic Retinopathy Image Dataset, CC BY 4.0.</p></body></html>");
        return html.ToString();
    }
}
