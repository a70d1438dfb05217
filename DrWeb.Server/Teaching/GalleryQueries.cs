using System.Linq.Expressions;
using DrWeb.Ml.Data;
using DrWeb.Ml.Inference;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Platform.Database;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Teaching;

public enum GalleryTab { Misclassified, Correct, All }

/// <summary>Referable errors: grade ≥ 2 called &lt; 2 (missed disease), or the reverse (false alarm).</summary>
public enum ReferableError { Any, MissedDisease, FalseAlarm, EitherError }

public enum GallerySort { MostConfidentFirst, LeastConfidentFirst, Image }

/// <summary>What the gallery shows: a tab, filters and an order. Confidence is the probability of the predicted grade.</summary>
public sealed record GalleryFilter
{
    public GalleryTab Tab { get; init; } = GalleryTab.Misclassified;
    public int? TrueGrade { get; init; }
    public int? PredictedGrade { get; init; }
    public ReferableError Referable { get; init; } = ReferableError.Any;
    public double MinConfidence { get; init; }
    public double MaxConfidence { get; init; } = 1;
    public GallerySort Sort { get; init; } = GallerySort.MostConfidentFirst;
}

/// <summary>An evaluation that has gallery rows, with the model it measured.</summary>
public sealed record GalleryEvaluation(Guid Id, string Name, string ModelName, string? ModelLabel, string DataFingerprint, int Images,
    double? ReferableAuc, double Kappa, double Accuracy, DateTimeOffset CreatedUtc)
{
    public string Title => $"{ModelName} — {Name}";
}

/// <summary>One page of cases and how many match in all.</summary>
public sealed record GalleryPage(IReadOnlyList<EvaluationCase> Cases, int Total);

/// <summary>
/// The teaching gallery's reads: evaluations with cases, filtered and sorted pages of cases (paged in the database,
/// so thousands of cases never load at once), the confusion matrix, and one case with its notes.
/// </summary>
public sealed class GalleryQueries(IDbContextFactory<DrWebDbContext> dbFactory)
{
    /// <summary>
    /// Whether an image in the store belongs to a gallery case (its photograph, heatmaps or model view), which is all
    /// that the gallery's image endpoint may serve: screening originals are reached only through their case.
    /// </summary>
    public async Task<bool> IsGalleryImageAsync(string hash, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        return await db.EvaluationCases.AnyAsync(c => c.ImageHash == hash || c.HeatmapPredictedHash == hash
            || c.HeatmapTrueHash == hash || c.ModelViewHash == hash, token);
    }

    public async Task<List<GalleryEvaluation>> EvaluationsAsync(CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        return await db.ModelEvaluations.AsNoTracking().Where(e => e.Cases.Any())
            .OrderByDescending(e => e.CreatedUtc)
            .Select(e => new GalleryEvaluation(e.Id, e.Name, e.ModelVersion!.Name, e.ModelVersion.Label, e.DataFingerprint, e.Images,
                e.ReferableAuc, e.Kappa, e.Accuracy, e.CreatedUtc))
            .ToListAsync(token);
    }

    public async Task<GalleryPage> PageAsync(Guid evaluationId, GalleryFilter filter, int page, int pageSize, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var query = Apply(db.EvaluationCases.AsNoTracking().Where(c => c.EvaluationId == evaluationId), filter);
        int total = await query.CountAsync(token);
        query = filter.Sort switch
        {
            GallerySort.MostConfidentFirst => query.OrderByDescending(Confidence).ThenBy(c => c.Id),
            GallerySort.LeastConfidentFirst => query.OrderBy(Confidence).ThenBy(c => c.Id),
            _ => query.OrderBy(c => c.ImageId),
        };
        var cases = await query.Skip(Math.Max(0, page) * pageSize).Take(pageSize).ToListAsync(token);
        return new GalleryPage(cases, total);
    }

    /// <summary>The evaluation's confusion matrix, counted in the database.</summary>
    public async Task<ConfusionMatrix> MatrixAsync(Guid evaluationId, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var cells = await db.EvaluationCases.AsNoTracking().Where(c => c.EvaluationId == evaluationId)
            .GroupBy(c => new { c.TrueGrade, c.PredictedGrade })
            .Select(g => new { g.Key.TrueGrade, g.Key.PredictedGrade, Count = g.Count() })
            .ToListAsync(token);
        var matrix = new ConfusionMatrix(DrGrade.Count);
        foreach (var cell in cells)
            for (int i = 0; i < cell.Count; i++) matrix.Add(cell.TrueGrade, cell.PredictedGrade);
        return matrix;
    }

    public async Task<(EvaluationCase Case, GalleryEvaluation Evaluation, List<CaseNote> Notes)?> CaseAsync(long id, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var found = await db.EvaluationCases.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, token);
        if (found is null) return null;
        var evaluation = await db.ModelEvaluations.AsNoTracking().Where(e => e.Id == found.EvaluationId)
            .Select(e => new GalleryEvaluation(e.Id, e.Name, e.ModelVersion!.Name, e.ModelVersion.Label, e.DataFingerprint, e.Images,
                e.ReferableAuc, e.Kappa, e.Accuracy, e.CreatedUtc))
            .SingleAsync(token);
        var notes = await db.CaseNotes.AsNoTracking().Where(n => n.EvaluationCaseId == id).OrderBy(n => n.Id).ToListAsync(token);
        return (found, evaluation, notes);
    }

    public async Task<string?> AddNoteAsync(long caseId, string author, string text, CancellationToken token = default)
    {
        if (string.IsNullOrWhiteSpace(text)) return "Write something first.";
        if (text.Length > 4000) return "A note can be at most 4000 characters.";
        await using var db = await dbFactory.CreateDbContextAsync(token);
        if (!await db.EvaluationCases.AnyAsync(c => c.Id == caseId, token)) return "That case no longer exists.";
        db.CaseNotes.Add(new CaseNote { EvaluationCaseId = caseId, Author = author, Text = text.Trim() });
        await db.SaveChangesAsync(token);
        return null;
    }

    public static IQueryable<EvaluationCase> Apply(IQueryable<EvaluationCase> query, GalleryFilter filter)
    {
        query = filter.Tab switch
        {
            GalleryTab.Correct => query.Where(c => c.TrueGrade == c.PredictedGrade),
            GalleryTab.Misclassified => query.Where(c => c.TrueGrade != c.PredictedGrade),
            _ => query,
        };
        if (filter.TrueGrade is { } t) query = query.Where(c => c.TrueGrade == t);
        if (filter.PredictedGrade is { } p) query = query.Where(c => c.PredictedGrade == p);
        const int r = DrGrade.ReferableFrom;
        query = filter.Referable switch
        {
            // The referral the model made at its operating point when the case was evaluated; older rows: the argmax grade.
            ReferableError.MissedDisease => query.Where(c => c.TrueGrade >= r && !(c.Referred ?? c.PredictedGrade >= r)),
            ReferableError.FalseAlarm => query.Where(c => c.TrueGrade < r && (c.Referred ?? c.PredictedGrade >= r)),
            ReferableError.EitherError => query.Where(c => (c.TrueGrade >= r) != (c.Referred ?? c.PredictedGrade >= r)),
            _ => query,
        };
        if (filter.MinConfidence > 0) query = query.Where(ConfidenceAtLeast(filter.MinConfidence));
        if (filter.MaxConfidence < 1) query = query.Where(ConfidenceAtMost(filter.MaxConfidence));
        return query;
    }

    /// <summary>The probability of the predicted grade, as an expression the database evaluates.</summary>
    private static readonly Expression<Func<EvaluationCase, float>> Confidence = c =>
        c.PredictedGrade == 0 ? c.P0 : c.PredictedGrade == 1 ? c.P1 : c.PredictedGrade == 2 ? c.P2 : c.PredictedGrade == 3 ? c.P3 : c.P4;

    private static Expression<Func<EvaluationCase, bool>> ConfidenceAtLeast(double min) =>
        Expression.Lambda<Func<EvaluationCase, bool>>(Expression.GreaterThanOrEqual(Confidence.Body, Expression.Constant((float)min)), Confidence.Parameters);

    private static Expression<Func<EvaluationCase, bool>> ConfidenceAtMost(double max) =>
        Expression.Lambda<Func<EvaluationCase, bool>>(Expression.LessThanOrEqual(Confidence.Body, Expression.Constant((float)max)), Confidence.Parameters);

    /// <summary>The probability of the predicted grade for a loaded case.</summary>
    public static float ConfidenceOf(EvaluationCase c) => c.Probabilities[c.PredictedGrade];

    public static bool IsMissedDisease(EvaluationCase c) => c.TrueGrade >= DrGrade.ReferableFrom && c.PredictedGrade < DrGrade.ReferableFrom;

    public static bool IsFalseAlarm(EvaluationCase c) => c.TrueGrade < DrGrade.ReferableFrom && c.PredictedGrade >= DrGrade.ReferableFrom;
}
