using System.Globalization;
using System.Security.Claims;
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
                return problem.StartsWith("There is no such exam", StringComparison.Ordinal)
                    ? NotFound(id) : Results.Problem(statusCode: 400, title: "Confirmation refused", detail: problem);
            return Results.Ok(ExamView.Of((await exams.OpenAsync(id, http.User, "the exam (API)", null, http.RequestAborted))!));
        }).DisableAntiforgery();
        api.MapGet("{id:guid}/report.pdf", (Guid id, ExamService exams, ExamReports reports, HttpContext http) =>
            PdfAsync(id, exams, reports, http, "the PDF report (API)"));
        api.MapGet("{id:guid}/fhir", async (Guid id, ExamService exams, ExamFhirExport fhir, HttpContext http) =>
            await OpenAsync(id, exams, http, "the FHIR bundle (API)") is { } exam
                ? Results.Text(fhir.BundleJson(exam, BaseUrl(http)), "application/fhir+json", System.Text.Encoding.UTF8)
                : NotFound(id));

        // The report page's download link: the same PDF for a signed-in doctor (cookie), as pages are.
        app.MapGet("/exams/{id:guid}/report.pdf", (Guid id, ExamService exams, ExamReports reports, HttpContext http) =>
                PdfAsync(id, exams, reports, http, "the PDF report"))
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

    private static async Task<IResult> CreateAsync(HttpRequest request, ExamService exams, IOptions<DrWebOptions> options, ClaimsPrincipal user)
    {
        if (!request.HasFormContentType)
            return Results.Problem(statusCode: 400, title: "Expected multipart/form-data",
                detail: "Send the photographs as multipart/form-data file fields named 'left' and 'right', with optional patientId, examDate, site, camera, leftField and rightField.");
        var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
        if (form.Files.FirstOrDefault(f => f.Name is not ("left" or "right")) is { } stray)
            return Results.Problem(statusCode: 400, title: "Unknown file field",
                detail: $"The file field '{stray.Name}' is neither 'left' nor 'right'. Send each photograph as the eye it shows.");
        if (form.Files.Count == 0)
            return Results.Problem(statusCode: 400, title: "No photograph", detail: "Attach at least one photograph as a 'left' or 'right' file field.");
        DateOnly? date = null;
        if (form["examDate"].FirstOrDefault() is { Length: > 0 } dateText)
        {
            if (!DateOnly.TryParseExact(dateText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
                return Results.Problem(statusCode: 400, title: "Invalid examDate", detail: "examDate must be a day as yyyy-MM-dd, e.g. 2026-12-03.");
            date = parsed;
        }
        long limit = options.Value.Screening.MaxUploadBytes;
        var photographs = new List<ExamPhotograph>();
        foreach (var side in new[] { EyeSide.Left, EyeSide.Right })
        {
            string name = side.ToString().ToLowerInvariant();
            var files = form.Files.GetFiles(name);
            var fields = form[$"{name}Field"];
            if (fields.Count > files.Count)
                return Results.Problem(statusCode: 400, title: $"Too many {name}Field values",
                    detail: $"There are {fields.Count} {name}Field values for {files.Count} '{name}' photographs; give one per photograph, in order.");
            for (int i = 0; i < files.Count; i++)
            {
                var file = files[i];
                if (file.Length > limit)
                    return Results.Problem(statusCode: 413, title: "Photograph too large",
                        detail: ScreeningOutcome.TooLarge(file.FileName, file.Length, limit).Error);
                using var ms = new MemoryStream();
                await file.CopyToAsync(ms, request.HttpContext.RequestAborted);
                photographs.Add(new ExamPhotograph(file.FileName, ms.ToArray(), side, i < fields.Count ? fields[i] : null));
            }
        }
        var outcome = await exams.CreateAsync(new ExamRequest(form["patientId"].FirstOrDefault(), date, form["site"].FirstOrDefault(),
            form["camera"].FirstOrDefault())
        {
            CamMethod = form["camMethod"].FirstOrDefault(), CamTarget = form["camTarget"].FirstOrDefault(),
        }, photographs, user.Identity?.Name ?? "", request.HttpContext.RequestAborted);
        if (outcome.Exam is { } exam)
            return Results.Created($"/api/exams/{exam.Id}", ExamView.Of(exam));
        if (outcome.RetryAfterSeconds is { } seconds)
        {
            request.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return Results.Problem(statusCode: 503, title: "Server busy", detail: outcome.Error);
        }
        // A photograph that could not be read is the client's to fix (422); a request that broke a rule of the exam, 400.
        return outcome.Photographs is { Count: > 0 }
            ? Results.Problem(statusCode: 422, title: "A photograph could not be screened", detail: outcome.Error)
            : Results.Problem(statusCode: 400, title: "Exam refused", detail: outcome.Error);
    }

    private static IResult NotFound(Guid id) =>
        Results.Problem(statusCode: 404, title: "No such exam", detail: $"There is no exam {id} that you may see.");
}
