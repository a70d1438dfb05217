using DrWeb.Ml.Data;

namespace DrWeb.Ml.Manifest;

/// <summary>A model's figures on the images of one source (one population and camera), e.g. <c>fundus-train/APTOS 2019</c>.</summary>
public sealed record SourceReport(string Source, EvaluationReport Report)
{
    /// <summary>
    /// One report per source of <paramref name="images"/>, in source order. A pooled figure over sources that differ
    /// in prevalence and look hides how the model does on each, so every source is reported on its own.
    /// </summary>
    public static IReadOnlyList<SourceReport> BySource(IReadOnlyList<LabelledImage> images, IReadOnlyList<EvaluatedImage> evaluated,
        double targetSpecificity = 0.913, double? threshold = null)
    {
        var sourceOf = images.ToDictionary(i => i.Id, i => i.Source, StringComparer.Ordinal);
        return evaluated.GroupBy(e => sourceOf.TryGetValue(e.Image, out var s) ? s : "")
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new SourceReport(g.Key, EvaluationReport.From(g.ToList(), targetSpecificity, threshold)))
            .ToList();
    }
}
