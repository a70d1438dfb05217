using DrWeb.Ml.Data;
using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Registry;
using DrWeb.Server.Teaching;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Training;

/// <summary>
/// The active model measured on a run's validation images with its own temperature and threshold, so that
/// "activate if better" compares like with like. Null when no model is active.
/// </summary>
public sealed class IncumbentMeasurement(ActiveModel active)
{
    public ModelEvaluation? Measure(DrWebDbContext db, TrainingRun run, IReadOnlyList<LabelledImage> images, IReadOnlyList<EvaluatedImage> validation,
        CancellationToken token)
    {
        Guid? activeId = db.ModelVersions.AsNoTracking().Where(v => v.IsActive).Select(v => (Guid?)v.Id).FirstOrDefault();
        if (activeId is not { } id) return null;
        using var lease = active.Acquire();
        if (lease is null) return null;
        var ids = validation.Select(i => i.Image).ToHashSet();
        var theirs = lease.Grader.Referral;
        var measured = ModelEvaluator.Predict(lease.Grader.Model, lease.Grader.Preprocessing, images.Where(i => ids.Contains(i.Id)).ToList(),
            token: token, temperature: theirs.Temperature);
        double? threshold = theirs.OperatingPoint?.Threshold;
        return ValidationGallery.Evaluation(id, run.Id, $"validation split of run {run.Name}", measured,
            EvaluationReport.From(measured, threshold: threshold), threshold);
    }
}
