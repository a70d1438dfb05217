using System.Security.Claims;
using System.Text.Json;
using DrWeb.Ml.Data;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Screening;

/// <summary>
/// The screening HTTP API for integrators: the same service and validation as the page, authorised by API token for
/// the Doctor and Admin roles, errors as RFC 7807 problem details.
/// </summary>
public static class ScreeningApi
{
    public const string Policy = "ScreeningApi";

    public sealed record ScreeningItem(string FileName, Guid? CaseId, float[]? Probabilities, int? Grade, string? GradeName,
        bool? Referable, float? ReferableProbability, string? ReferableRule, string? ModelVersion, string? CamLayer,
        string? OverlayUrl, bool SeenBefore, string? Error, string? ErrorId, string? QualityVerdict = null,
        IReadOnlyList<string>? QualityReasons = null, bool QualityOverridden = false, string? OriginalUrl = null,
        string? ModelViewUrl = null, string? ModelViewNote = null, bool HeatmapOnModelView = false, string? CamMethod = null,
        string? CamTarget = null, Guid? ExamId = null);

    public sealed record ScreeningResponse(IReadOnlyList<ScreeningItem> Results);

    public static void AddScreeningApiPolicy(AuthorizationOptions options) =>
        options.AddPolicy(Policy, p => p.AddAuthenticationSchemes(ApiTokenAuthentication.Scheme).RequireAuthenticatedUser()
            .RequireRole(AccountSetup.Doctor, AccountSetup.Admin));

    public static void MapScreeningApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/screenings").RequireAuthorization(Policy);

        // Token-authenticated, never cookie-authenticated, so cross-site request forgery does not apply.
        api.MapPost("", ScreenAsync).DisableAntiforgery();
        api.MapGet("{id:guid}", async (Guid id, CaseQueries cases, HttpContext http) =>
            await OpenAsync(id, cases, http, "the case (API)") is { } found
                ? Results.Ok(Item(found, found.Predictions.OrderByDescending(p => p.CreatedUtc).First(), false))
                : NotFound(id));
        api.MapGet("{id:guid}/overlay", (Guid id, CaseQueries cases, IImageStore store, HttpContext http) =>
            LatestImageAsync(id, cases, store, http, "the heatmap (API)", (_, p) => p.OverlayHash, "image/png"));
        api.MapGet("{id:guid}/model-view", (Guid id, CaseQueries cases, IImageStore store, HttpContext http) =>
            LatestImageAsync(id, cases, store, http, "the model's view (API)", (_, p) => p.ModelViewHash, "image/png"));
        api.MapGet("{id:guid}/original", (Guid id, CaseQueries cases, IImageStore store, HttpContext http) =>
            LatestImageAsync(id, cases, store, http, "the original photograph (API)", (c, _) => c.ImageHash, null));
    }

    private static Task<Case?> OpenAsync(Guid id, CaseQueries cases, HttpContext http, string what) =>
        cases.OpenAsync(id, http.User, what, http.Connection.RemoteIpAddress?.ToString(), http.RequestAborted);

    /// <summary>One stored image of a case's latest prediction; the original keeps the type it was uploaded with.</summary>
    private static async Task<IResult> LatestImageAsync(Guid id, CaseQueries cases, IImageStore store, HttpContext http, string what,
        Func<Case, Prediction, string?> pick, string? contentType)
    {
        if (await OpenAsync(id, cases, http, what) is not { } found)
            return NotFound(id);
        string? hash = pick(found, found.Predictions.OrderByDescending(p => p.CreatedUtc).First());
        if (hash is null)
            return Results.Problem(statusCode: 404, title: "Not kept for this case",
                detail: "This case was screened before the model's view was stored; screen the image again to get it.");
        byte[] bytes = store.Read(hash);
        return Results.File(bytes, contentType ?? SixLabors.ImageSharp.Image.DetectFormat(bytes).DefaultMimeType);
    }

    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private static async Task<IResult> ScreenAsync(HttpRequest request, ScreeningService screening, IdempotentRequests idempotency,
        IOptions<DrWebOptions> options, ClaimsPrincipal user)
    {
        if (!request.HasFormContentType)
            return Results.Problem(statusCode: 400, title: "Expected multipart/form-data",
                detail: "Send the images as multipart/form-data file fields, with optional patientId, eye and doctorGrade fields.");
        string? key = request.Headers[IdempotencyKeyHeader];
        if (key is not null && !IdempotentRequests.IsValidKey(key))
            return Results.Problem(statusCode: 400, title: "Invalid Idempotency-Key",
                detail: "The Idempotency-Key header must be 1 to 128 visible ASCII characters; a new UUID per request is typical.");
        var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
        if (form.Files.Count == 0)
            return Results.Problem(statusCode: 400, title: "No image", detail: "Attach at least one image file.");
        int? doctorGrade = null;
        if (form["doctorGrade"] is { Count: > 0 } dg)
        {
            if (!int.TryParse(dg.ToString(), out int g))
                return Results.Problem(statusCode: 400, title: "Invalid doctorGrade", detail: "doctorGrade must be a number from 0 to 4.");
            doctorGrade = g;
        }
        string userName = user.Identity?.Name ?? "";
        if (key is null)
            return ToResult(await ScreenFormAsync(form, doctorGrade, userName, screening, options.Value.Screening, request.HttpContext.RequestAborted));

        var answer = await idempotency.AnswerOnceAsync(userName, key, await IdempotentRequests.HashAsync(form),
            () => ScreenFormAsync(form, doctorGrade, userName, screening, options.Value.Screening, CancellationToken.None),
            request.HttpContext.RequestAborted);
        if (answer.Replayed) request.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
        return ToResult(answer);
    }

    private static IResult ToResult(StoredAnswer answer)
    {
        var text = Results.Text(answer.Json, answer.Status < 400 ? "application/json" : "application/problem+json", System.Text.Encoding.UTF8, answer.Status);
        return answer.RetryAfterSeconds is { } seconds ? new WithRetryAfter(text, seconds) : text;
    }

    private sealed class WithRetryAfter(IResult inner, int seconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }

    private static async Task<StoredAnswer> ScreenFormAsync(IFormCollection form, int? doctorGrade, string userName, ScreeningService screening,
        ScreeningOptions options, CancellationToken token)
    {
        bool gradeAnyway = bool.TryParse(form["gradeAnyway"].FirstOrDefault(), out bool anyway) && anyway;
        var results = new List<ScreeningItem>();
        var outcomes = new List<ScreeningOutcome>();
        foreach (var file in form.Files)
        {
            ScreeningOutcome outcome;
            if (file.Length > options.MaxUploadBytes)
            {
                outcome = ScreeningOutcome.TooLarge(file.FileName, file.Length, options.MaxUploadBytes);
            }
            else
            {
                using var ms = new MemoryStream();
                await file.CopyToAsync(ms, token);
                outcome = await screening.ScreenAsync(new ScreeningUpload(file.FileName, ms.ToArray(), form["patientId"].FirstOrDefault(),
                    form["eye"].FirstOrDefault(), doctorGrade, gradeAnyway)
                {
                    UploadedBy = userName, CamMethod = form["camMethod"].FirstOrDefault(), CamTarget = form["camTarget"].FirstOrDefault(),
                }, cancellationToken: token);
            }
            outcomes.Add(outcome);
            results.Add(outcome.Succeeded
                ? Item(outcome.Case!, outcome.Prediction!, outcome.SeenBefore)
                : new ScreeningItem(outcome.FileName, null, null, null, null, null, null, null, null, null, null, false, outcome.Error, outcome.ErrorId,
                    outcome.Quality?.Verdict.ToString(), outcome.Quality?.Reasons.Select(r => r.Message).ToList()));
        }
        if (outcomes.All(o => o.IsBusy))
        {
            int seconds = outcomes.Max(o => o.RetryAfterSeconds!.Value);
            var busy = new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = 503, Title = "Server busy", Detail = $"The server has as many images in progress as it may hold. Nothing was read or saved; send the request again in {seconds} s.",
                Type = "https://tools.ietf.org/html/rfc9110#section-15.6.4", Extensions = { ["results"] = results },
            };
            return new StoredAnswer(503, JsonSerializer.Serialize(busy, JsonSerializerOptions.Web), seconds);
        }
        if (results.All(r => r.Error is not null))
        {
            var problem = new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = 422, Title = "No image could be screened", Detail = string.Join(" ", results.Select(r => r.Error)),
                Type = "https://tools.ietf.org/html/rfc4918#section-11.2", Extensions = { ["results"] = results },
            };
            return new StoredAnswer(422, JsonSerializer.Serialize(problem, JsonSerializerOptions.Web));
        }
        return new StoredAnswer(200, JsonSerializer.Serialize(new ScreeningResponse(results), JsonSerializerOptions.Web));
    }

    private static ScreeningItem Item(Case c, Prediction p, bool seenBefore) =>
        new(c.FileName, c.Id, p.Probabilities, p.Grade, DrGrade.Name(p.Grade), p.Referable, p.ReferableProbability, p.ReferableRule,
            p.ModelVersion, p.CamLayer, $"/api/screenings/{c.Id}/overlay", seenBefore, null, null, c.QualityVerdict,
            c.QualityReasons?.Split('\n'), c.QualityOverridden, $"/api/screenings/{c.Id}/original",
            p.ModelViewHash is null ? null : $"/api/screenings/{c.Id}/model-view", p.ModelViewNote, p.HeatmapOnModelView, p.CamMethod, p.CamTarget, c.ExamId);

    private static IResult NotFound(Guid id) =>
        Results.Problem(statusCode: 404, title: "No such case", detail: $"There is no screening case {id} that you may see.");
}
