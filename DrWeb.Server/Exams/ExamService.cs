using System.Globalization;
using System.Security.Claims;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Screening;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Exams;

/// <summary>What the doctor says about the visit; every field but the photographs is optional.</summary>
public sealed record ExamRequest(string? PatientId, DateOnly? ExamDate = null, string? Site = null, string? Camera = null)
{
    /// <summary>The heatmap's CAM method and target by name, as for a single screening.</summary>
    public string? CamMethod { get; init; }

    public string? CamTarget { get; init; }
}

/// <summary>One photograph of the exam, with its eye (confirmed by the doctor) and, optionally, its field.</summary>
public sealed record ExamPhotograph(string FileName, byte[] Bytes, EyeSide Eye, string? Field = null);

/// <summary>A stored exam, or why none was stored (nothing of a refused exam is kept).</summary>
public sealed record ExamOutcome(Exam? Exam, string? Error, int? RetryAfterSeconds = null, IReadOnlyList<ScreeningOutcome>? Photographs = null)
{
    public bool Succeeded => Exam is not null;
}

/// <summary>The doctor's confirmation: their grade per eye (for an eye in the exam), and refer or not.</summary>
public sealed record ExamConfirmation(int? GradeLeft, int? GradeRight, bool Refer, string? Comment = null);

/// <summary>
/// Makes exams: each photograph goes through the screening service (same admission, quality gate, model and storage as
/// a single screening), then the eye- and patient-level rules give the model's recommendation, which is stored with the
/// guideline row it came from so that a later change of the configured table does not rewrite past reports.
/// </summary>
public sealed class ExamService(ScreeningService screening, CaseQueries cases, IDbContextFactory<DrWebDbContext> dbFactory,
    IOptions<ReferralGuideline> guideline, AuditLog audit)
{
    public const int MaxPhotographs = 8;

    public ReferralGuideline Guideline => guideline.Value;

    public async Task<ExamOutcome> CreateAsync(ExamRequest request, IReadOnlyList<ExamPhotograph> photographs, string createdBy,
        CancellationToken token = default)
    {
        if (Validate(request, photographs) is { } problem) return new ExamOutcome(null, problem);
        var exam = new Exam
        {
            PatientId = Blank(request.PatientId), Site = Blank(request.Site), Camera = Blank(request.Camera), CreatedBy = createdBy,
            ExamDate = request.ExamDate ?? DateOnly.FromDateTime(DateTime.UtcNow),
        };
        await using (var db = await dbFactory.CreateDbContextAsync(token))
        {
            db.Exams.Add(exam);
            await db.SaveChangesAsync(token);
        }
        var outcomes = new List<ScreeningOutcome>();
        try
        {
            foreach (var photo in photographs)
            {
                var outcome = await screening.ScreenAsync(new ScreeningUpload(photo.FileName, photo.Bytes, exam.PatientId,
                    photo.Eye.ToString().ToLowerInvariant())
                {
                    UploadedBy = createdBy, ExamId = exam.Id, Field = photo.Field, KeepUngradable = true,
                    CamMethod = request.CamMethod, CamTarget = request.CamTarget,
                }, cancellationToken: token);
                outcomes.Add(outcome);
                if (!outcome.Succeeded)
                {
                    await DeleteAsync(exam.Id);
                    return new ExamOutcome(null, $"The exam was not saved: {outcome.Error}", outcome.RetryAfterSeconds, outcomes);
                }
            }
        }
        catch
        {
            await DeleteAsync(exam.Id);
            throw;
        }
        return new ExamOutcome(await DecideAsync(exam.Id, token), null, null, outcomes);
    }

    /// <summary>The exam with its photographs and predictions if the viewer may see it; fills the recommendation of an exam made before exams had one.</summary>
    public async Task<Exam?> OpenAsync(Guid id, ClaimsPrincipal viewer, string what, string? address = null, CancellationToken token = default)
    {
        Exam? found;
        await using (var db = await dbFactory.CreateDbContextAsync(token))
            found = await ExamQueries.Visible(db.Exams.AsNoTracking(), viewer, SeesOthers(viewer)).FirstOrDefaultAsync(e => e.Id == id, token);
        if (found is null) return null;
        if (!string.Equals(found.CreatedBy, viewer.Identity?.Name, StringComparison.OrdinalIgnoreCase))
            await audit.RecordAsync(AuditAction.ExamViewed, viewer.Identity?.Name, found.Id.ToString(),
                $"{what}; made by {found.CreatedBy ?? "(not recorded)"}", address, token);
        return await DecideAsync(id, token, onlyIfMissing: true);
    }

    /// <summary>Record which eye a photograph shows (the doctor corrects the guess); the recommendation follows until the exam is confirmed.</summary>
    public async Task<string?> SetEyeAsync(Guid examId, Guid caseId, EyeSide eye, ClaimsPrincipal viewer, CancellationToken token = default)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(token))
        {
            var exam = await ExamQueries.Visible(db.Exams, viewer, SeesOthers(viewer)).Include(e => e.Photographs)
                .FirstOrDefaultAsync(e => e.Id == examId, token);
            if (exam?.Photographs.FirstOrDefault(c => c.Id == caseId) is not { } photo) return "There is no such photograph in an exam you may see.";
            if (exam.ConfirmedUtc is not null) return "The exam is confirmed; its photographs' eyes can no longer change.";
            photo.Eye = eye.ToString().ToLowerInvariant();
            await db.SaveChangesAsync(token);
        }
        await DecideAsync(examId, token);
        return null;
    }

    public async Task<string?> ConfirmAsync(Guid examId, ExamConfirmation confirmation, ClaimsPrincipal viewer, CancellationToken token = default)
    {
        if (confirmation.GradeLeft is < 0 or > 4 || confirmation.GradeRight is < 0 or > 4)
            return "A doctor's grade must be 0 to 4.";
        if (confirmation.Comment is { Length: > 2000 })
            return "The comment must be at most 2,000 characters.";
        string who = viewer.Identity?.Name ?? "";
        // The model's answer must be on record before the doctor's is set beside it (an exam migrated from a single screening has none yet).
        await DecideAsync(examId, token, onlyIfMissing: true);
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var exam = await ExamQueries.Visible(db.Exams, viewer, SeesOthers(viewer)).Include(e => e.Photographs)
            .FirstOrDefaultAsync(e => e.Id == examId, token);
        if (exam is null) return "There is no such exam that you may see.";
        if (confirmation.GradeLeft is not null && exam.Photographs.All(p => p.Eye != "left"))
            return "The exam has no photograph of the left eye to grade.";
        if (confirmation.GradeRight is not null && exam.Photographs.All(p => p.Eye != "right"))
            return "The exam has no photograph of the right eye to grade.";
        exam.DoctorGradeLeft = confirmation.GradeLeft;
        exam.DoctorGradeRight = confirmation.GradeRight;
        exam.DoctorRefer = confirmation.Refer;
        exam.DoctorComment = Blank(confirmation.Comment);
        exam.ConfirmedBy = who;
        exam.ConfirmedUtc = DateTimeOffset.UtcNow;
        await db.SaveChangesAsync(token);
        string verb = confirmation.Refer == exam.ModelRefer ? "confirmed" : "overrode";
        await audit.RecordAsync(AuditAction.ExamConfirmed, who, exam.Id.ToString(),
            string.Create(CultureInfo.InvariantCulture, $"{verb} the model: {(confirmation.Refer ? "refer" : "rescreen")}; grades left {confirmation.GradeLeft?.ToString() ?? "-"}, right {confirmation.GradeRight?.ToString() ?? "-"}"),
            null, token);
        return null;
    }

    /// <summary>Each eye's result from the exam's stored photographs and their stored decisions.</summary>
    public static (EyeResult Left, EyeResult Right) Eyes(Exam exam) =>
        (EyeResult.Combine(PhotographsOf(exam, EyeSide.Left)), EyeResult.Combine(PhotographsOf(exam, EyeSide.Right)));

    private static List<PhotographResult> PhotographsOf(Exam exam, EyeSide side) =>
        exam.Photographs.Where(c => c.Eye == side.ToString().ToLowerInvariant() && c.Predictions.Count > 0)
            .Select(c => c.Predictions.OrderByDescending(p => p.CreatedUtc).First() is var p
                ? new PhotographResult(c.Gradable, p.Grade, p.ReferableProbability, p.Referable) : null!)
            .ToList();

    private async Task<Exam?> DecideAsync(Guid id, CancellationToken token, bool onlyIfMissing = false)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var exam = await db.Exams.Include(e => e.Photographs).ThenInclude(c => c.Predictions).AsSplitQuery().FirstOrDefaultAsync(e => e.Id == id, token);
        if (exam is null || (onlyIfMissing && exam.ModelRefer is not null) || exam.ConfirmedUtc is not null) return exam;
        var (left, right) = Eyes(exam);
        var recommendation = PatientDecision.Decide(left, right, guideline.Value);
        exam.ModelRefer = recommendation.Refer;
        exam.ModelFollowUpMonths = recommendation.FollowUpMonths;
        exam.ModelAction = recommendation.Action;
        exam.ModelReason = recommendation.Reason;
        exam.GuidelineSource = recommendation.Source;
        exam.ModelGradeLeft = left.Grade;
        exam.ModelGradeRight = right.Grade;
        await db.SaveChangesAsync(token);
        return exam;
    }

    private async Task DeleteAsync(Guid id)
    {
        // Not the request's token: a refused or cancelled exam must still leave nothing behind.
        await using var db = await dbFactory.CreateDbContextAsync();
        await db.Exams.Where(e => e.Id == id).ExecuteDeleteAsync();
    }

    /// <summary>Exams follow the screening history's rule for whose work a user sees.</summary>
    private bool SeesOthers(ClaimsPrincipal viewer) => cases.SeesOthersCases(viewer);

    private static string? Validate(ExamRequest request, IReadOnlyList<ExamPhotograph> photographs)
    {
        if (photographs.Count == 0) return "Add at least one photograph, as the left or the right eye.";
        if (photographs.Count > MaxPhotographs) return $"An exam holds at most {MaxPhotographs} photographs; this one has {photographs.Count}.";
        if (request.PatientId is { Length: > 64 } || (request.PatientId?.Any(char.IsControl) ?? false))
            return "The patient id must be at most 64 printable characters.";
        if (request.Site is { Length: > 100 } || request.Camera is { Length: > 100 })
            return "The site and the camera must each be at most 100 characters.";
        if (request.ExamDate is { } date && date > DateOnly.FromDateTime(DateTime.UtcNow.AddDays(1)))
            return $"The exam date {date:yyyy-MM-dd} is in the future; give the day the photographs were taken.";
        return null;
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
