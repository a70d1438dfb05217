using System.Diagnostics;
using DrWeb.Ml.Explain;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Inference;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Registry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Screening;

/// <summary>One file to screen, with the doctor's optional fields and the user who uploads it.</summary>
/// <param name="GradeAnyway">Grade even if the quality gate calls the image ungradable (the override is recorded).</param>
public sealed record ScreeningUpload(string FileName, byte[] Bytes, string? PatientId = null, string? Eye = null,
    int? DoctorGrade = null, bool GradeAnyway = false)
{
    /// <summary>The uploader's e-mail (the signed-in user's name): every case records who made it.</summary>
    public required string UploadedBy { get; init; }

    /// <summary>The heatmap's CAM method by name (<see cref="CamMethods.Names"/>); null for Grad-CAM.</summary>
    public string? CamMethod { get; init; }

    /// <summary>What the heatmap explains: predicted (null), referable or a grade 0-4.</summary>
    public string? CamTarget { get; init; }

    /// <summary>The exam the photograph belongs to; null makes it a one-photo exam of its own.</summary>
    public Guid? ExamId { get; init; }

    /// <summary>The field the photograph is centred on: macula, disc or other; null if not said.</summary>
    public string? Field { get; init; }

    /// <summary>
    /// Keep a photograph the quality gate calls ungradable, graded but marked so (an exam needs it to say its eye is
    /// ungradable); unlike <see cref="GradeAnyway"/>, the gate's verdict stands.
    /// </summary>
    public bool KeepUngradable { get; init; }
}

/// <summary>What happened to one upload: a stored case, or a message that says what was wrong (and nothing stored).</summary>
public sealed record ScreeningOutcome(string FileName, Case? Case, Prediction? Prediction, string? Error, string? ErrorId, bool SeenBefore,
    QualityReport? Quality = null, int? RetryAfterSeconds = null)
{
    public bool Succeeded => Case is not null && Prediction is not null;

    /// <summary>The quality gate stopped it; the doctor may grade it anyway.</summary>
    public bool Ungradable => !Succeeded && Quality is { Verdict: QualityVerdict.Ungradable };

    public static ScreeningOutcome NotGradable(string fileName, QualityReport quality) =>
        new(fileName, null, null,
            $"'{fileName}' is ungradable: {string.Join(" ", quality.Reasons.Where(r => r.Blocking).Select(r => r.Message))} No grade was given; grade it anyway only if you judge it readable.",
            null, false, quality);

    public static ScreeningOutcome Rejected(string fileName, string error, string? errorId = null) =>
        new(fileName, null, null, error, errorId, false);

    /// <summary>The server has as much work admitted as it may hold; nothing about the file is wrong.</summary>
    public static ScreeningOutcome Busy(string fileName, int admitted, int retryAfterSeconds) =>
        new(fileName, null, null,
            $"The server is busy ({admitted} images in progress or waiting); '{fileName}' was not read. Try again in {retryAfterSeconds} s.",
            null, false, RetryAfterSeconds: retryAfterSeconds);

    /// <summary>Refused only because the server was busy: the same upload later will be taken.</summary>
    public bool IsBusy => RetryAfterSeconds is not null;

    /// <summary>The one message for a file over the upload limit, wherever the limit is checked.</summary>
    public static ScreeningOutcome TooLarge(string fileName, long bytes, long limit) =>
        Rejected(fileName, $"'{fileName}' is {bytes / 1048576.0:0.#} MB, above the {limit / 1048576.0:0.#} MB limit. Export a smaller JPEG or PNG.");
}

/// <summary>Where an upload is on its way through the queue.</summary>
public sealed record ScreeningProgress(string Stage, int? QueuePosition = null);

/// <summary>
/// Validates an upload, grades it with the active model behind a bounded queue, stores the original and the overlay
/// by content hash, and records a Case + Prediction. A rejected file writes nothing.
/// Memory stays bounded under load: an upload is admitted (or refused as busy) on its header alone, before any pixel
/// is decoded, and then waits for room in a global <see cref="PixelBudget"/> before it is decoded.
/// </summary>
public sealed class ScreeningService(
    ActiveModel activeModel, IImageStore store, IDbContextFactory<DrWebDbContext> dbFactory, PixelBudget decoding,
    IdleMemoryTrim trim, NodeIdentity node, DrWebMetrics metrics, IOptions<DrWebOptions> options, ILogger<ScreeningService> logger) : IDisposable
{
    private readonly ScreeningOptions _options = options.Value.Screening;
    private readonly ImageDecoder _decoder = new(options.Value.Images);
    private readonly SemaphoreSlim _slots = new(Math.Max(1, options.Value.Screening.Concurrency));
    private int _waiting, _admitted;

    /// <summary>Uploads admitted and not yet finished (waiting to decode, decoded, queued or grading).</summary>
    public int Admitted => Volatile.Read(ref _admitted);

    /// <summary>The most uploads admitted at once: those grading plus the queue.</summary>
    public int AdmissionLimit => Math.Max(1, _options.Concurrency) + Math.Max(0, _options.MaxQueue);

    public async Task<ScreeningOutcome> ScreenAsync(ScreeningUpload upload, IProgress<ScreeningProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        // The file name may carry a patient's name: the trace records only the node, the outcome and the case id.
        using var activity = DrWebMetrics.Traces.StartActivity("screening");
        activity?.SetTag("drweb.node", node.Name);
        var outcome = await ScreenOneAsync(upload, progress, cancellationToken);
        string result = outcome.Succeeded ? outcome.Prediction!.Referable ? "referable" : "not_referable"
            : outcome.IsBusy ? "busy" : outcome.Ungradable ? "ungradable" : "rejected";
        metrics.Screenings.Add(1, new KeyValuePair<string, object?>("outcome", result));
        activity?.SetTag("drweb.outcome", result);
        if (outcome.Case is { } stored) activity?.SetTag("drweb.case_id", stored.Id.ToString());
        return outcome;
    }

    private async Task<ScreeningOutcome> ScreenOneAsync(ScreeningUpload upload, IProgress<ScreeningProgress>? progress,
        CancellationToken cancellationToken)
    {
        string name = upload.FileName;
        if (upload.Bytes.LongLength > _options.MaxUploadBytes)
            return ScreeningOutcome.TooLarge(name, upload.Bytes.LongLength, _options.MaxUploadBytes);
        if (Validate(upload) is { } problem)
            return ScreeningOutcome.Rejected(name, problem);
        if (!node.Has(NodeIdentity.Screening))
            return ScreeningOutcome.Rejected(name, $"This node ({node.Name}) does not grade: its DrWeb:Roles has no 'screening'. Send screenings to a screening node.");
        if (!activeModel.IsLoaded)
            return ScreeningOutcome.Rejected(name, activeModel.Problem ?? ActiveModel.NoModel);

        ImageHeader header;
        try
        {
            header = _decoder.Inspect(upload.Bytes, Path.GetFileName(name));
        }
        catch (ImageRejectedException e)
        {
            return ScreeningOutcome.Rejected(name, e.Message);
        }

        int admitted = Interlocked.Increment(ref _admitted);
        try
        {
            if (admitted > AdmissionLimit)
                return ScreeningOutcome.Busy(name, admitted - 1, _options.BusyRetryAfterSeconds);
            using var pixels = await decoding.ReserveAsync(header.Pixels, cancellationToken);
            return await DecodeAndGradeAsync(upload, header, progress, cancellationToken);
        }
        finally
        {
            if (Interlocked.Decrement(ref _admitted) == 0) trim.Schedule(() => Admitted > 0);
        }
    }

    private async Task<ScreeningOutcome> DecodeAndGradeAsync(ScreeningUpload upload, ImageHeader header, IProgress<ScreeningProgress>? progress,
        CancellationToken cancellationToken)
    {
        string name = upload.FileName;
        FundusImage image;
        try
        {
            using var decoding = DrWebMetrics.Traces.StartActivity("decode");
            image = await Task.Run(() => _decoder.Decode(upload.Bytes, header, Path.GetFileName(name)), cancellationToken);
        }
        catch (ImageRejectedException e)
        {
            return ScreeningOutcome.Rejected(name, e.Message);
        }

        using (image)
        {
            // The quality gate runs before the queue: an ungradable image never waits for, or uses, the model.
            QualityReport quality;
            try
            {
                using var gate = DrWebMetrics.Traces.StartActivity("quality-gate");
                quality = Screener.Assess(image);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                string errorId = Guid.NewGuid().ToString("N")[..8];
                logger.LogError(e, "Quality gate failed, reference {ErrorId}", errorId);
                return ScreeningOutcome.Rejected(name, $"The photograph could not be analysed (reference {errorId}). Nothing was saved; check that it is a fundus photograph.", errorId);
            }
            if (quality.Verdict == QualityVerdict.Ungradable && !upload.GradeAnyway && !upload.KeepUngradable)
                return ScreeningOutcome.NotGradable(name, quality);

            int position = Interlocked.Increment(ref _waiting);
            progress?.Report(new ScreeningProgress("queued", position));
            try
            {
                await _slots.WaitAsync(cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
            // The lease keeps this grading on the model it started with, even if an admin activates another meanwhile.
            using var lease = activeModel.Acquire();
            try
            {
                if (lease is null)
                    return ScreeningOutcome.Rejected(name, activeModel.Problem ?? ActiveModel.NoModel);
                progress?.Report(new ScreeningProgress("grading"));
                var clock = Stopwatch.StartNew();
                // One view serves the model, the overlay and the doctor's "what the model saw"; it reuses the gate's fundus detection.
                var explain = new ScreenOptions(Method: CamMethods.Parse(upload.CamMethod ?? "gradcam"), Target: CamTarget.Parse(upload.CamTarget ?? "predicted"));
                ScreenedPhotograph screened;
                using (var grading = DrWebMetrics.Traces.StartActivity("grade"))
                {
                    grading?.SetTag("drweb.model_version", lease.Version);
                    screened = await Task.Run(() => Screener.Screen(image, lease.Grader, explain, quality), cancellationToken);
                }
                using var disposeScreened = screened;
                double ms = clock.Elapsed.TotalMilliseconds;
                metrics.GradingDuration.Record(ms / 1000, new KeyValuePair<string, object?>("model_version", lease.Version));
                using var storing = DrWebMetrics.Traces.StartActivity("store");
                return await SaveAsync(upload, image, screened, explain.Target!, lease.Version, ms, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                throw;
            }
            catch (Exception e)
            {
                string errorId = Guid.NewGuid().ToString("N")[..8];
                // The file name may carry a patient's name; log only the reference and the error.
                logger.LogError(e, "Screening failed, reference {ErrorId}", errorId);
                return ScreeningOutcome.Rejected(name, $"Grading failed on the server (reference {errorId}). Nothing was saved; please try again.", errorId);
            }
            finally
            {
                _slots.Release();
                trim.AfterWork();
            }
        }
    }

    private async Task<ScreeningOutcome> SaveAsync(ScreeningUpload upload, FundusImage image, ScreenedPhotograph result, CamTarget camTarget,
        string modelVersion, double ms, CancellationToken token)
    {
        var (quality, view) = (result.Quality, result.View);
        string hash = IImageStore.HashOf(upload.Bytes);
        await using var db = await dbFactory.CreateDbContextAsync(token);
        // "Seen before" must not reveal another doctor's case to a doctor who may not see it.
        bool seenBefore = _options.CaseVisibility == CaseVisibility.All
            ? await db.Cases.AnyAsync(c => c.ImageHash == hash, token)
            : await db.Cases.AnyAsync(c => c.ImageHash == hash && c.UploadedBy == upload.UploadedBy, token);
        store.Save(upload.Bytes);
        string overlayHash = store.Save(result.Overlays[0]);
        string viewHash = store.Save(view.ToPng());
        var p = result.Probabilities;
        var screened = new Case
        {
            ImageHash = hash, FileName = Path.GetFileName(upload.FileName), Format = image.Format, Width = image.Width, Height = image.Height,
            PatientId = Blank(upload.PatientId), Eye = Blank(upload.Eye)?.ToLowerInvariant(), DoctorGrade = upload.DoctorGrade, UploadedBy = upload.UploadedBy,
            QualityVerdict = quality.Verdict.ToString(),
            QualityReasons = quality.ReasonLines,
            QualityOverridden = quality.Verdict == QualityVerdict.Ungradable && upload.GradeAnyway,
            Field = Blank(upload.Field)?.ToLowerInvariant(),
        };
        if (upload.ExamId is { } examId)
            screened.ExamId = examId;
        else
            screened.Exam = new Exam
            {
                Id = screened.Id, CreatedUtc = screened.CreatedUtc, PatientId = screened.PatientId, CreatedBy = upload.UploadedBy,
                ExamDate = DateOnly.FromDateTime(screened.CreatedUtc.UtcDateTime),
            };
        var prediction = new Prediction
        {
            Case = screened, ModelVersion = modelVersion,
            P0 = p[0], P1 = p[1], P2 = p[2], P3 = p[3], P4 = p[4],
            Grade = result.Grade, Referable = result.Referable.IsReferable, ReferableProbability = result.Referable.Probability,
            ReferableRule = result.Referable.Rule, ReferralThreshold = result.Referable.Threshold, CamLayer = result.Explanations[0].Layer,
            CamMethod = result.Explanations[0].Method, CamTarget = camTarget.Name, OverlayHash = overlayHash, DurationMs = ms,
            ModelViewHash = viewHash, ModelViewNote = view.Description, HeatmapOnModelView = view.Prepared,
        };
        screened.Predictions.Add(prediction);
        db.Cases.Add(screened);
        await db.SaveChangesAsync(token);
        return new ScreeningOutcome(upload.FileName, screened, prediction, null, null, seenBefore, quality);
    }

    /// <summary>A message for a problem that needs no decoding to see, or null.</summary>
    private string? Validate(ScreeningUpload upload)
    {
        string name = upload.FileName;
        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(['/', '\\']) >= 0 || name.Contains("..") || name.Any(char.IsControl) || name.Length > 255)
            return $"The file name '{new string(name.Where(c => !char.IsControl(c)).Take(80).ToArray())}' contains path characters or is too long. Rename the file and upload it again.";
        if (string.IsNullOrWhiteSpace(upload.UploadedBy))
            return "The upload does not say who made it; sign in and upload again.";
        if (upload.Eye is { Length: > 0 } eye && eye.ToLowerInvariant() is not ("left" or "right"))
            return $"Eye must be 'left' or 'right', not '{eye}'.";
        if (upload.Field is { Length: > 0 } field && field.ToLowerInvariant() is not ("macula" or "disc" or "other"))
            return $"Field must be 'macula', 'disc' or 'other', not '{Printable(field)}'.";
        if (upload.DoctorGrade is < 0 or > 4)
            return $"The doctor's grade must be 0 to 4, not {upload.DoctorGrade}.";
        if (upload.PatientId is { Length: > 64 } || (upload.PatientId?.Any(char.IsControl) ?? false))
            return "The patient id must be at most 64 printable characters.";
        return HeatmapProblem(upload.CamMethod, upload.CamTarget);
    }

    /// <summary>Why a heatmap method or target named in a request is unknown, or null; parsed by the rules that will read it later.</summary>
    public static string? HeatmapProblem(string? method, string? target)
    {
        if (method is { Length: > 0 } && !Parses(() => CamMethods.Parse(method)))
            return $"The heatmap method '{Printable(method)}' is unknown; use one of {string.Join(", ", CamMethods.Names)}.";
        if (target is { Length: > 0 } && !Parses(() => CamTarget.Parse(target)))
            return $"The heatmap target '{Printable(target)}' is unknown; use predicted, referable or a grade 0-4.";
        return null;
    }

    /// <summary>Whether a name parses, by the same rules that will read it later (so the two cannot disagree).</summary>
    private static bool Parses(Action parse)
    {
        try
        {
            parse();
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string Printable(string text) => new(text.Where(c => !char.IsControl(c)).Take(40).ToArray());

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    public void Dispose() => _slots.Dispose();
}
