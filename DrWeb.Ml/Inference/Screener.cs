using DrWeb.Ml.Data;
using DrWeb.Ml.Explain;
using DrWeb.Ml.Imaging;

namespace DrWeb.Ml.Inference;

/// <summary>What to do with a photograph beyond grading it.</summary>
/// <param name="Explain">Compute heatmaps and their overlays.</param>
/// <param name="ExplainGrades">Grades to explain (e.g. the predicted and the true grade); empty: the predicted grade.</param>
/// <param name="CamLayer">The layer to explain at; null: the model's default.</param>
/// <param name="Overlay">How overlays are drawn.</param>
/// <param name="Method">The CAM method; null for the grader's (Grad-CAM unless it was made with another).</param>
/// <param name="Target">What the heatmap explains when <paramref name="ExplainGrades"/> is not given; null for the predicted grade.</param>
public sealed record ScreenOptions(bool Explain = true, IReadOnlyList<int>? ExplainGrades = null, string? CamLayer = null,
    OverlayOptions? Overlay = null, CamMethod? Method = null, CamTarget? Target = null)
{
    public static readonly ScreenOptions Default = new();
}

/// <summary>
/// One photograph through the whole recipe: the quality verdict, the model's view, probabilities, grade, referral
/// decision and, when asked, heatmaps with their overlays (PNG, drawn on what the model saw). Owns the view.
/// </summary>
public sealed class ScreenedPhotograph(QualityReport quality, ModelView view, GradeProbabilities probabilities, ReferableDecision referable,
    IReadOnlyList<CamResult> explanations, IReadOnlyList<byte[]> overlays) : IDisposable
{
    public QualityReport Quality { get; } = quality;
    public ModelView View { get; } = view;
    public GradeProbabilities Probabilities { get; } = probabilities;
    public int Grade => Probabilities.MostLikely;
    public string GradeName => DrGrade.Name(Grade);
    public ReferableDecision Referable { get; } = referable;

    /// <summary>One per explained grade, in the order asked; empty when not explained.</summary>
    public IReadOnlyList<CamResult> Explanations { get; } = explanations;

    /// <summary>The PNG overlay of each explanation, in the same order.</summary>
    public IReadOnlyList<byte[]> Overlays { get; } = overlays;

    public void Dispose() => View.Dispose();
}

/// <summary>
/// DrWeb's one entry point from a decoded photograph to a screening result. Screening, the validation gallery and the
/// <c>predict</c> command all call it, so the quality gate, the model's view and the overlay are made the same way
/// everywhere. The gate is a separate step so that a caller can refuse an ungradable photograph before it waits for
/// the model.
/// </summary>
public static class Screener
{
    /// <summary>The quality gate: whether the photograph can be graded, and where its field of view is.</summary>
    public static QualityReport Assess(FundusImage photograph) => QualityGate.Assess(photograph.Pixels);

    /// <summary>Grades (and explains) <paramref name="photograph"/> with <paramref name="grader"/>.</summary>
    /// <param name="quality">The gate's report from <see cref="Assess"/>; assessed here when null. Its fundus location is reused for the view.</param>
    public static ScreenedPhotograph Screen(FundusImage photograph, Grader grader, ScreenOptions? options = null, QualityReport? quality = null)
    {
        options ??= ScreenOptions.Default;
        quality ??= Assess(photograph);
        var view = grader.PrepareView(photograph, quality.Location);
        try
        {
            GradeProbabilities probabilities;
            ReferableDecision referable;
            IReadOnlyList<CamResult> explanations = [];
            if (options.Explain && options.ExplainGrades is { Count: > 0 } grades)
            {
                (probabilities, explanations) = grader.Explain(view, grades, options.CamLayer, options.Method);
                referable = grader.Referral.Decide(probabilities);
            }
            else
            {
                var result = grader.Grade(view, options.Explain, options.CamLayer, options.Method, options.Target);
                (probabilities, referable) = (result.Probabilities, result.Referable);
                if (result.Explanation is { } cam) explanations = [cam];
            }
            var basePicture = view.HeatmapBase(photograph.Pixels);
            var overlays = explanations.Select(cam => HeatmapOverlay.RenderPng(basePicture, cam.Raw, options.Overlay)).ToList();
            return new ScreenedPhotograph(quality, view, probabilities, referable, explanations, overlays);
        }
        catch
        {
            view.Dispose();
            throw;
        }
    }
}
