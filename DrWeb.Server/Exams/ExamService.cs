using System.Globalization;
using System.Security.Claims;
using DrWeb.Ml.Imaging;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Registry;
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

/// <summary>Why an exam was not made: the request (400), a photograph (422), or the server (busy or unable to grade, 503).</summary>
public enum ExamRefusal
{
    Request,
    Photograph,
    Unavailable,
}

/// <summary>A stored exam, or why none was stored (no row of a refused exam is kept).</summary>
public sealed record ExamOutcome(Exam? Exam, string? Error, ExamRefusal? Refusal = null, int? RetryAfterSeconds = null)
{
    public bool Succeeded => Exam is not null;
}

/// <summary>The doctor's confirmation: their grade per eye (for an eye in the exam), and refer or not.</summary>
public sealed record ExamConfirmation(int? GradeLeft, int? GradeRight, bool Refer, string? Comment = null);

/// <summary>Why a change to an exam was refused: it is not there for this viewer, it is already confirmed, or the input is wrong.</summary>
public enum ExamChangeRefusal
{
    NotFound,
    Confirmed,
    Invalid,
}

public sealed record ExamChangeProblem(ExamChangeRefusal Refusal, string Message);

/// <summary>
/// Makes exams: each photograph goes through the screening service (same admission, quality gate, model and storage as
/// a single screening), then the eye- and patient-level rules give the model's recommendation, which is stored with the
/// guideline row it came from so that a later change of the configured table does not rewrite past reports.
/// </summary>
public sealed class ExamService(ScreeningService screening, CaseQueries cases, ActiveModel activeModel, NodeIdentity node,
    IDbContextFactory<DrWebDbContext> dbFactory, IOptions<ReferralGuideline> guideline, IOptions<DrWebOptions> options,
    PixelBudget decoding, AuditLog audit)
{
    public const int MaxPhotographs = 8;

    public static readonly IReadOnlyList<string> Fields = ["macula", "disc", "other"];

    private readonly ImageDecoder _decoder = new(options.Value.Images);

    public ReferralGuideline Guideline => guideline.Value;

    public async Task<ExamOutcome> CreateAsync(ExamRequest request, IReadOnlyList<ExamPhotograph> photographs, string createdBy,
        CancellationToken token = default)
    {
        // Everything that can be said before grading is said first, so that no photograph is graded in vain.
        if (Validate(request, photographs) is { } problem) return new ExamOutcome(null, problem, ExamRefusal.Request);
        if (!node.Has(NodeIdentity.Screening))
            return new ExamOutcome(null, $"This node ({node.Name}) does not grade: its DrWeb:Roles has no 'screening'. Send exams to a screening node.", ExamRefusal.Unavailable);
        if (!activeModel.IsLoaded)
            return new ExamOutcome(null, activeModel.Problem ?? ActiveModel.NoModel, ExamRefusal.Unavailable);
        var exam = new Exam
        {
            PatientId = Blank(request.PatientId), Site = Blank(request.Site), Camera = Blank(request.Camera), CreatedBy = createdBy,
            ExamDate = request.ExamDate ?? DateOnly.FromDateTime(DateTime.UtcNow), Grading = true,
        };
        await using (var db = await dbFactory.CreateDbContextAsync(token))
        {
            db.Exams.Add(exam);
            await db.SaveChangesAsync(token);
        }
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
                if (!outcome.Succeeded)
                {
                    await DeleteAsync(exam.Id);
                    return new ExamOutcome(null, $"The exam was not saved: {outcome.Error}",
                        outcome.IsBusy ? ExamRefusal.Unavailable : ExamRefusal.Photograph, outcome.RetryAfterSeconds);
                }
            }
        }
        catch
        {
            await DeleteAsync(exam.Id);
            throw;
        }
        return new ExamOutcome(await DecideAsync(exam.Id, token), null);
    }

    /// <summary>
    /// A suggested eye for an uploaded photograph (file name, else the optic disc's side). Decoding waits for room in
    /// the same pixel budget as screening, so guesses cannot take memory that gradings are promised.
    /// </summary>
    public async Task<EyeGuess> GuessEyeAsync(string fileName, byte[] bytes, CancellationToken token = default)
    {
        if (EyeGuesser.Named(fileName) is { } named) return named;
        try
        {
            string name = Path.GetFileName(fileName);
            var header = _decoder.Inspect(bytes, name);
            using var room = await decoding.ReserveAsync(header.Pixels, token);
            return await Task.Run(() =>
            {
                using var image = _decoder.Decode(bytes, header, name);
                return EyeGuesser.Guess(fileName, image.Pixels);
            }, token);
        }
        catch (ImageRejectedException e)
        {
            return new EyeGuess(null, $"the photograph could not be read ({e.Message}); choose the eye");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new EyeGuess(null, "the photograph could not be analysed for a guess; choose the eye");
        }
    }

    /// <summary>The exam with its photographs and predictions if the viewer may see it; fills the recommendation of an exam migrated from a single screening.</summary>
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
    public async Task<ExamChangeProblem?> SetEyeAsync(Guid examId, Guid caseId, EyeSide eye, ClaimsPrincipal viewer, CancellationToken token = default)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(token))
        {
            if (!await ExamQueries.Visible(db.Exams, viewer, SeesOthers(viewer)).AnyAsync(e => e.Id == examId && e.Photographs.Any(c => c.Id == caseId), token))
                return new ExamChangeProblem(ExamChangeRefusal.NotFound, "There is no such photograph in an exam you may see.");
            // One statement, so that a confirmation cannot slip in between the check and the change.
            string side = eye.ToString().ToLowerInvariant();
            int changed = await db.Cases.Where(c => c.Id == caseId && c.ExamId == examId && c.Exam!.ConfirmedUtc == null)
                .ExecuteUpdateAsync(u => u.SetProperty(c => c.Eye, side), token);
            if (changed == 0) return new ExamChangeProblem(ExamChangeRefusal.Confirmed, "The exam is confirmed; its photographs' eyes can no longer change.");
        }
        await DecideAsync(examId, token);
        return null;
    }

    /// <summary>The doctor's answer, once: a confirmed exam keeps it (the audit log says who and when).</summary>
    public async Task<ExamChangeProblem?> ConfirmAsync(Guid examId, ExamConfirmation confirmation, ClaimsPrincipal viewer, CancellationToken token = default)
    {
        if (confirmation.GradeLeft is < 0 or > 4 || confirmation.GradeRight is < 0 or > 4)
            return new ExamChangeProblem(ExamChangeRefusal.Invalid, "A doctor's grade must be 0 to 4.");
        if (confirmation.Comment is { Length: > 2000 })
            return new ExamChangeProblem(ExamChangeRefusal.Invalid, "The comment must be at most 2,000 characters.");
        string who = viewer.Identity?.Name ?? "";
        string[] eyes;
        await using (var db = await dbFactory.CreateDbContextAsync(token))
        {
            eyes = await ExamQueries.Visible(db.Exams, viewer, SeesOthers(viewer)).Where(e => e.Id == examId)
                .SelectMany(e => e.Photographs.Select(c => c.Eye ?? "")).ToArrayAsync(token);
            if (eyes.Length == 0) return new ExamChangeProblem(ExamChangeRefusal.NotFound, "There is no such exam that you may see.");
        }
        if (confirmation.GradeLeft is not null && !eyes.Contains("left"))
            return new ExamChangeProblem(ExamChangeRefusal.Invalid, "The exam has no photograph of the left eye to grade.");
        if (confirmation.GradeRight is not null && !eyes.Contains("right"))
            return new ExamChangeProblem(ExamChangeRefusal.Invalid, "The exam has no photograph of the right eye to grade.");
        // The model's answer must be on record before the doctor's is set beside it (an exam migrated from a single screening has none yet).
        var decided = await DecideAsync(examId, token, onlyIfMissing: true);
        string? comment = Blank(confirmation.Comment);
        var now = DateTimeOffset.UtcNow;
        int changed;
        await using (var db = await dbFactory.CreateDbContextAsync(token))
            changed = await db.Exams.Where(e => e.Id == examId && e.ConfirmedUtc == null).ExecuteUpdateAsync(u => u
                .SetProperty(e => e.DoctorGradeLeft, confirmation.GradeLeft)
                .SetProperty(e => e.DoctorGradeRight, confirmation.GradeRight)
                .SetProperty(e => e.DoctorRefer, confirmation.Refer)
                .SetProperty(e => e.DoctorComment, comment)
                .SetProperty(e => e.ConfirmedBy, who)
                .SetProperty(e => e.ConfirmedUtc, now), token);
        if (changed == 0)
            return new ExamChangeProblem(ExamChangeRefusal.Confirmed, "The exam is already confirmed; its confirmation cannot be changed.");
        string verb = confirmation.Refer == decided?.ModelRefer ? "confirmed" : "overrode";
        await audit.RecordAsync(AuditAction.ExamConfirmed, who, examId.ToString(),
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

    /// <summary>Makes and stores the model's recommendation (and ends grading); a confirmed exam keeps the one it was confirmed with.</summary>
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
        exam.Grading = false;
        await db.SaveChangesAsync(token);
        return exam;
    }

    private async Task DeleteAsync(Guid id)
    {
        // Not the request's token: a refused or cancelled exam must still leave no row behind.
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
        if (photographs.FirstOrDefault(p => p.Field is { Length: > 0 } f && !Fields.Contains(f.Trim().ToLowerInvariant())) is { } badField)
            return $"The field of '{badField.FileName}' must be one of {string.Join(", ", Fields)}, not '{Printable(badField.Field!)}'.";
        return ScreeningService.HeatmapProblem(request.CamMethod, request.CamTarget);
    }

    private static string Printable(string text) => new(text.Where(c => !char.IsControl(c)).Take(40).ToArray());

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
