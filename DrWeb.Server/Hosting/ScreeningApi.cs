using System.Security.Claims;
using DrWeb.Ml.Inference;
using DrWeb.Server.Data;
using DrWeb.Server.Services;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Hosting;

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
        string? ModelViewUrl = null, string? ModelViewNote = null, bool HeatmapOnModelView = false);

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
            await cases.GetAsync(id, http.RequestAborted) is { } found
                ? Results.Ok(Item(found, found.Predictions.OrderByDescending(p => p.CreatedUtc).First(), false))
                : NotFound(id));
        api.MapGet("{id:guid}/overlay", (Guid id, CaseQueries cases, ImageStore store, HttpContext http) =>
            LatestImageAsync(id, cases, store, http, (_, p) => p.OverlayHash, "image/png"));
        api.MapGet("{id:guid}/model-view", (Guid id, CaseQueries cases, ImageStore store, HttpContext http) =>
            LatestImageAsync(id, cases, store, http, (_, p) => p.ModelViewHash, "image/png"));
        api.MapGet("{id:guid}/original", (Guid id, CaseQueries cases, ImageStore store, HttpContext http) =>
            LatestImageAsync(id, cases, store, http, (c, _) => c.ImageHash, null));
    }

    /// <summary>One stored image of a case's latest prediction; the original keeps the type it was uploaded with.</summary>
    private static async Task<IResult> LatestImageAsync(Guid id, CaseQueries cases, ImageStore store, HttpContext http,
        Func<Case, Prediction, string?> pick, string? contentType)
    {
        if (await cases.GetAsync(id, http.RequestAborted) is not { } found)
            return NotFound(id);
        string? hash = pick(found, found.Predictions.OrderByDescending(p => p.CreatedUtc).First());
        if (hash is null)
            return Results.Problem(statusCode: 404, title: "Not kept for this case",
                detail: "This case was screened before the model's view was stored; screen the image again to get it.");
        byte[] bytes = store.Read(hash);
        return Results.File(bytes, contentType ?? SixLabors.ImageSharp.Image.DetectFormat(bytes).DefaultMimeType);
    }

    private static async Task<IResult> ScreenAsync(HttpRequest request, ScreeningService screening, IOptions<DrWebOptions> options, ClaimsPrincipal user)
    {
        if (!request.HasFormContentType)
            return Results.Problem(statusCode: 400, title: "Expected multipart/form-data",
                detail: "Send the images as multipart/form-data file fields, with optional patientId, eye and doctorGrade fields.");
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
        bool gradeAnyway = bool.TryParse(form["gradeAnyway"].FirstOrDefault(), out bool anyway) && anyway;
        long max = options.Value.Screening.MaxUploadBytes;
        var results = new List<ScreeningItem>();
        foreach (var file in form.Files)
        {
            ScreeningOutcome outcome;
            if (file.Length > max)
            {
                outcome = ScreeningOutcome.TooLarge(file.FileName, file.Length, max);
            }
            else
            {
                using var ms = new MemoryStream();
                await file.CopyToAsync(ms, request.HttpContext.RequestAborted);
                outcome = await screening.ScreenAsync(new ScreeningUpload(file.FileName, ms.ToArray(), form["patientId"].FirstOrDefault(),
                    form["eye"].FirstOrDefault(), doctorGrade, user.Identity?.Name, gradeAnyway), cancellationToken: request.HttpContext.RequestAborted);
            }
            results.Add(outcome.Succeeded
                ? Item(outcome.Case!, outcome.Prediction!, outcome.SeenBefore)
                : new ScreeningItem(outcome.FileName, null, null, null, null, null, null, null, null, null, null, false, outcome.Error, outcome.ErrorId,
                    outcome.Quality?.Verdict.ToString(), outcome.Quality?.Reasons.Select(r => r.Message).ToList()));
        }
        if (results.All(r => r.Error is not null))
            return Results.Problem(statusCode: 422, title: "No image could be screened",
                detail: string.Join(" ", results.Select(r => r.Error)), extensions: new Dictionary<string, object?> { ["results"] = results });
        return Results.Ok(new ScreeningResponse(results));
    }

    private static ScreeningItem Item(Case c, Prediction p, bool seenBefore) =>
        new(c.FileName, c.Id, p.Probabilities, p.Grade, DrGrade.Name(p.Grade), p.Referable, p.ReferableProbability, p.ReferableRule,
            p.ModelVersion, p.CamLayer, $"/api/screenings/{c.Id}/overlay", seenBefore, null, null, c.QualityVerdict,
            c.QualityReasons?.Split('\n'), c.QualityOverridden, $"/api/screenings/{c.Id}/original",
            p.ModelViewHash is null ? null : $"/api/screenings/{c.Id}/model-view", p.ModelViewNote, p.HeatmapOnModelView);

    private static IResult NotFound(Guid id) =>
        Results.Problem(statusCode: 404, title: "No such case", detail: $"There is no screening case {id}.");
}
