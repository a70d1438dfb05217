using DrWeb.Ml.Data;
using DrWeb.Ml.Explain;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Inference;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;

namespace DrWeb.Server.Teaching;

/// <summary>
/// Turns a run's validation predictions into gallery rows: each photograph copied into the image store, and Grad-CAM
/// overlays for the predicted and for the true grade, so an educator can ask "why X rather than Y".
/// </summary>
public static class ValidationGallery
{
    /// <param name="decoding">The server's configured image limits, the same as for screening uploads.</param>
    public static List<EvaluationCase> Build(Grader grader, IReadOnlyList<LabelledImage> images, IReadOnlyList<EvaluatedImage> evaluated, IImageStore store,
        ImageDecodeOptions decoding, Action<int, int>? progress, CancellationToken token)
    {
        var byId = images.ToDictionary(i => i.Id);
        var decoder = new ImageDecoder(decoding);
        var cases = new List<EvaluationCase>(evaluated.Count);
        foreach (var e in evaluated)
        {
            token.ThrowIfCancellationRequested();
            var source = byId[e.Image];
            byte[] bytes = File.ReadAllBytes(source.Path);
            using var image = decoder.Decode(bytes, Path.GetFileName(source.Path));
            int[] classes = e.PredictedGrade == e.TrueGrade ? [e.PredictedGrade] : [e.PredictedGrade, e.TrueGrade];
            // The probabilities shown are the run's own (e); the screener adds the gate, the view and both heatmaps.
            using var screened = Screener.Screen(image, grader, new ScreenOptions(ExplainGrades: classes));
            var (quality, view) = (screened.Quality, screened.View);
            string predicted = store.Save(screened.Overlays[0]);
            string truth = screened.Overlays.Count > 1 ? store.Save(screened.Overlays[1]) : predicted;
            var p = e.Probabilities;
            var referral = grader.Referral;
            cases.Add(new EvaluationCase
            {
                Referred = referral.OperatingPoint is null ? null : referral.Case(e).Predicted,
                ImageId = e.Image, ImageHash = store.Save(bytes), PatientId = source.PatientId, Eye = EyeOf(e.Image),
                TrueGrade = e.TrueGrade, PredictedGrade = e.PredictedGrade, P0 = p[0], P1 = p[1], P2 = p[2], P3 = p[3], P4 = p[4],
                HeatmapPredictedHash = predicted, HeatmapTrueHash = truth, CamLayer = screened.Explanations[0].Layer,
                ModelViewHash = store.Save(view.ToPng()), ModelViewNote = view.Description, HeatmapOnModelView = view.Prepared,
                QualityVerdict = quality.Verdict.ToString(), QualityReasons = quality.ReasonLines,
            });
            progress?.Invoke(cases.Count, evaluated.Count);
        }
        return cases;
    }

    private static string? EyeOf(string imageId) =>
        imageId.EndsWith("_left", StringComparison.OrdinalIgnoreCase) ? "left"
        : imageId.EndsWith("_right", StringComparison.OrdinalIgnoreCase) ? "right" : null;

    /// <summary>An evaluation row from a report, for the model version it measures.</summary>
    public static ModelEvaluation Evaluation(Guid versionId, Guid runId, string name, IReadOnlyList<EvaluatedImage> images, EvaluationReport report,
        double? referralThreshold = null) => new()
    {
        ReferralThreshold = referralThreshold,
        ModelVersionId = versionId, RunId = runId, Name = name, Images = images.Count,
        DataFingerprint = Fingerprint(images),
        ReportJson = System.Text.Json.JsonSerializer.Serialize(report, Ml.Manifest.ModelManifest.Json),
        ReferableAuc = double.IsFinite(report.Referable.RocAuc) ? report.Referable.RocAuc : null,
        Sensitivity = report.Referable.Sensitivity.Value, Specificity = report.Referable.Specificity.Value,
        Accuracy = report.Accuracy.Value, Kappa = report.QuadraticWeightedKappa,
    };

    /// <summary>Which images with which true grades: two evaluations with the same fingerprint measured the same data.</summary>
    public static string Fingerprint(IReadOnlyList<EvaluatedImage> images)
    {
        var lines = images.Select(i => $"{i.Image},{i.TrueGrade}").Order(StringComparer.Ordinal);
        byte[] hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", lines)));
        return Convert.ToHexString(hash)[..16].ToLowerInvariant();
    }
}
