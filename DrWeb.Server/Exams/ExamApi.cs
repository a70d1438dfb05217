using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Server.Screening;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Exams;

/// <summary>
/// The exam API: <c>POST /api/exams</c> (multipart, <c>left</c> / <c>right</c> file fields), the exam, its
/// confirmation, its PDF report and its FHIR R4 bundle. Token-authorised like the screening API; errors are problem details.
/// </summary>
public static class ExamApi
{
    public sealed record ConfirmationBody(int? GradeLeft, int? GradeRight, bool? Refer, string? Comment);

    public static void MapExamApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/exams").RequireAuthorization(ScreeningApi.Policy);
        // Token-authenticated, never cookie-authenticated, so cross-site request forgery does not apply.
        api.MapPost("", CreateAsync).DisableAntiforgery();
        api.MapGet("{id:guid}", async (Guid id, ExamService exams, HttpContext http) =>
            await OpenAsync(id, exams, http, "the exam (API)") is { } exam ? Results.Ok(ExamView.Of(exam)) : NotFound(id));
        api.MapPost("{id:guid}/confirmation", async (Guid id, ConfirmationBody? body, ExamService exams, HttpContext http) =>
        {
            if (body?.Refer is not { } refer)
                return Results.Problem(statusCode: 400, title: "Missing decision",
                    detail: "Send JSON with 'refer' (true or false) and, for each eye photographed, 'gradeLeft' / 'gradeRight' (0-4).");
            if (await exams.ConfirmAsync(id, new ExamConfirmation(body.GradeLeft, body.GradeRight, refer, body.Comment), http.User,
                    http.RequestAborted) is { } problem)
                return problem.Refusal switch
                {
                    ExamChangeRefusal.NotFound => NotFound(id),
                    ExamChangeRefusal.Confirmed => Results.Problem(statusCode: 409, title: "Already confirmed", detail: problem.Message),
                    _ => Results.Problem(statusCode: 400, title: "Confirmation refused", detail: problem.Message),
                };
            return Results.Ok(ExamView.Of((await exams.OpenAsync(id, http.User, "the exam (API)", null, http.RequestAborted))!));
        }).DisableAntiforgery();
        api.MapGet("{id:guid}/report.pdf", (Guid id, ExamService exams, ExamReports reports, HttpContext http) =>
            PdfAsync(id, exams, reports, http, "the PDF report (API)"));
        api.MapGet("{id:guid}/fhir", async (Guid id, ExamService exams, ExamFhirExport fhir, HttpContext http) =>
            await OpenAsync(id, exams, http, "the FHIR bundle (API)") is { } exam
                ? Results.Text(fhir.BundleJson(exam, BaseUrl(http)), "application/fhir+json", System.Text.Encoding.UTF8)
                : NotFound(id));

        // The exam page's download links: the same PDF and bundle for a signed-in doctor (cookie), as pages are.
        app.MapGet("/exams/{id:guid}/report.pdf", (Guid id, ExamService exams, ExamReports reports, HttpContext http) =>
                PdfAsync(id, exams, reports, http, "the PDF report"))
            .RequireAuthorization(p => p.RequireRole(AccountSetup.Doctor, AccountSetup.Admin));
        app.MapGet("/exams/{id:guid}/fhir", async (Guid id, ExamService exams, ExamFhirExport fhir, HttpContext http) =>
                await OpenAsync(id, exams, http, "the FHIR bundle") is { } exam
                    ? Results.File(System.Text.Encoding.UTF8.GetBytes(fhir.BundleJson(exam, BaseUrl(http))), "application/fhir+json",
                        $"drweb-exam-{exam.Id.ToString()[..8]}.fhir.json")
                    : Results.NotFound())
            .RequireAuthorization(p => p.RequireRole(AccountSetup.Doctor, AccountSetup.Admin));
    }

    private static async Task<IResult> PdfAsync(Guid id, ExamService exams, ExamReports reports, HttpContext http, string what)
    {
        if (await OpenAsync(id, exams, http, what) is not { } exam) return NotFound(id);
        byte[] pdf = await reports.PdfAsync(exam, http.RequestAborted);
        string name = $"drweb-exam-{exam.ExamDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}-{exam.Id.ToString()[..8]}.pdf";
        return Results.File(pdf, "application/pdf", name);
    }

    private static Task<Platform.Database.Exam?> OpenAsync(Guid id, ExamService exams, HttpContext http, string what) =>
        exams.OpenAsync(id, http.User, what, http.Connection.RemoteIpAddress?.ToString(), http.RequestAborted);

    private static string BaseUrl(HttpContext http) => $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}";

    private static async Task<IResult> CreateAsync(HttpRequest request, ExamService exams, IdempotentRequests idempotency,
        IOptions<DrWebOptions> options, ClaimsPrincipal user)
    {
        if (!request.HasFormContentType)
            return Results.Problem(statusCode: 400, title: "Expected multipart/form-data",
                detail: "Send the photographs as multipart/form-data file fields named 'left' and 'right', with optional patientId, examDate, site, camera, leftField and rightField.");
        string? key = request.Headers[ScreeningApi.IdempotencyKeyHeader];
        if (key is not null && !IdempotentRequests.IsValidKey(key))
            return Results.Problem(statusCode: 400, title: "Invalid Idempotency-Key",
                detail: "The Idempotency-Key header must be 1 to 128 visible ASCII characters; a new UUID per request is typical.");
        var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
        string userName = user.Identity?.Name ?? "";
        if (key is null)
            return new Written(await CreateFromFormAsync(form, exams, options.Value, userName, request.HttpContext.RequestAborted));

        // With a key the exam is finished even if the client goes away: its retry then gets this answer.
        var answer = await idempotency.AnswerOnceAsync(userName, key, await IdempotentRequests.HashAsync(form, "exams"),
            () => CreateFromFormAsync(form, exams, options.Value, userName, CancellationToken.None), request.HttpContext.RequestAborted);
        if (answer.Replayed) request.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
        return new Written(answer);
    }

    /// <summary>A stored answer as it is sent: Retry-After on "busy", and a 201 names its exam in Location (a replay too).</summary>
    private sealed class Written(StoredAnswer answer) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            if (answer.RetryAfterSeconds is { } seconds) http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            if (answer.Status == 201)
            {
                using var created = JsonDocument.Parse(answer.Json);
                http.Response.Headers.Location = $"/api/exams/{created.RootElement.GetProperty("id").GetString()}";
            }
            return Results.Text(answer.Json, answer.Status < 400 ? "application/json" : "application/problem+json", System.Text.Encoding.UTF8,
                answer.Status).ExecuteAsync(http);
        }
    }

    private static async Task<StoredAnswer> CreateFromFormAsync(IFormCollection form, ExamService exams, DrWebOptions options, string userName,
        CancellationToken token)
    {
        if (form.Files.FirstOrDefault(f => f.Name is not ("left" or "right")) is { } stray)
            return StoredAnswer.Problem(400, "Unknown file field",
                $"The file field '{stray.Name}' is neither 'left' nor 'right'. Send each photograph as the eye it shows.");
        if (form.Files.Count == 0)
            return StoredAnswer.Problem(400, "No photograph", "Attach at least one photograph as a 'left' or 'right' file field.");
        if (form.Files.Count > ExamService.MaxPhotographs)
            return StoredAnswer.Problem(400, "Exam refused",
                $"An exam holds at most {ExamService.MaxPhotographs} photographs; this one has {form.Files.Count}.");
        DateOnly? date = null;
        if (form["examDate"].FirstOrDefault() is { Length: > 0 } dateText)
        {
            if (!DateOnly.TryParseExact(dateText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
                return StoredAnswer.Problem(400, "Invalid examDate", "examDate must be a day as yyyy-MM-dd, e.g. 2026-12-03.");
            date = parsed;
        }
        long limit = options.Screening.MaxUploadBytes;
        var photographs = new List<ExamPhotograph>();
        foreach (var side in new[] { EyeSide.Left, EyeSide.Right })
        {
            string name = side.ToString().ToLowerInvariant();
            var files = form.Files.GetFiles(name);
            var fields = form[$"{name}Field"];
            if (fields.Count > files.Count)
                return StoredAnswer.Problem(400, $"Too many {name}Field values",
                    $"There are {fields.Count} {name}Field values for {files.Count} '{name}' photographs; give one per photograph, in order.");
            for (int i = 0; i < files.Count; i++)
            {
                var file = files[i];
                if (file.Length > limit)
                    return StoredAnswer.Problem(413, "Photograph too large", ScreeningOutcome.TooLarge(file.FileName, file.Length, limit).Error);
                using var ms = new MemoryStream();
                await file.CopyToAsync(ms, token);
                photographs.Add(new ExamPhotograph(file.FileName, ms.ToArray(), side, i < fields.Count ? fields[i] : null));
            }
        }
        var outcome = await exams.CreateAsync(new ExamRequest(form["patientId"].FirstOrDefault(), date, form["site"].FirstOrDefault(),
            form["camera"].FirstOrDefault())
        {
            CamMethod = form["camMethod"].FirstOrDefault(), CamTarget = form["camTarget"].FirstOrDefault(),
        }, photographs, userName, token);
        if (outcome.Exam is { } exam)
            return new StoredAnswer(201, JsonSerializer.Serialize(ExamView.Of(exam), ApiJson));
        // A request that broke a rule of the exam is a 400; a photograph that could not be screened, 422; a server that
        // cannot grade now (busy, no model, not a screening node), 503.
        return outcome.Refusal switch
        {
            ExamRefusal.Unavailable => StoredAnswer.Problem(503, outcome.RetryAfterSeconds is null ? "Cannot grade" : "Server busy", outcome.Error,
                outcome.RetryAfterSeconds),
            ExamRefusal.Photograph => StoredAnswer.Problem(422, "A photograph could not be screened", outcome.Error),
            _ => StoredAnswer.Problem(400, "Exam refused", outcome.Error),
        };
    }

    /// <summary>The API's JSON: web casing and enums by name, as the rest of the API.</summary>
    private static readonly JsonSerializerOptions ApiJson = new(JsonSerializerOptions.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
        // Served as JSON, never embedded in HTML: quotes and apostrophes in messages stay readable.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static IResult NotFound(Guid id) =>
        Results.Problem(statusCode: 404, title: "No such exam", detail: $"There is no exam {id} that you may see.");
}
