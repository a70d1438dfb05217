using System.Security.Claims;
using DrWeb.Server.Data;
using DrWeb.Server.Services;
using Microsoft.AspNetCore.Authorization;

namespace DrWeb.Server.Hosting;

/// <summary>
/// Retraining for scripts ("every night, register the new export and retrain"): the same services as the Training
/// page, Admin API tokens only, errors as RFC 7807 problem details.
/// </summary>
public static class TrainingApi
{
    public const string Policy = "TrainingApi";

    public sealed record DatasetRequest(string Path, string? Name);
    public sealed record RunRequest(RunSettings Settings, string? Name, DateTimeOffset? StartAt);

    public sealed record RunState(Guid Id, string Name, string Status, string Phase, int Epoch, int Epochs, int Step, int StepsPerEpoch,
        int Attempts, int? ResumedAfterEpoch, string? Device, double? EtaSeconds, string? Error, string? ErrorReference,
        Guid? ModelVersionId, double? BestKappa, double? BestReferableAuc, IReadOnlyList<EpochState> EpochMetrics);

    public sealed record EpochState(int Epoch, double TrainLoss, double ValidationLoss, double Kappa, double? ReferableAuc, double Seconds, long RowId);

    public static void AddTrainingApiPolicy(AuthorizationOptions options) =>
        options.AddPolicy(Policy, p => p.AddAuthenticationSchemes(ApiTokenAuthentication.Scheme).RequireAuthenticatedUser()
            .RequireRole(AccountSetup.Admin));

    public static void MapTrainingApi(this WebApplication app)
    {
        // Token-authenticated, never cookie-authenticated, so cross-site request forgery does not apply.
        var api = app.MapGroup("/api").RequireAuthorization(Policy).DisableAntiforgery();
        api.MapPost("/datasets", async (DatasetRequest request, TrainingDatasets datasets, HttpContext http) =>
        {
            var result = await datasets.RegisterFolderAsync(request.Path, request.Name, http.RequestAborted);
            return result.Succeeded
                ? Results.Created($"/api/datasets/{result.Dataset!.Id}", new { result.Dataset.Id, result.Dataset.Images, result.Message, result.Report })
                : Results.Problem(statusCode: 422, title: "Dataset refused", detail: result.Message + (result.Report is null ? "" : "\n" + result.Report));
        });
        api.MapPost("/training-runs", async (RunRequest request, TrainingRuns runs, ClaimsPrincipal user, HttpContext http) =>
        {
            RunTiming timing = request.StartAt is { } at ? new RunTiming.At(at) : new RunTiming.Now();
            var outcome = await runs.StartAsync(request.Settings, request.Name, timing, user.Identity?.Name, token: http.RequestAborted);
            return outcome.Succeeded
                ? Results.Created($"/api/training-runs/{outcome.Run!.Id}", State(outcome.Run))
                : Results.Problem(statusCode: 422, title: "Run refused", detail: string.Join(" ", outcome.Problems));
        });
        api.MapGet("/training-runs/{id:guid}", async (Guid id, TrainingRuns runs, HttpContext http) =>
            await runs.GetAsync(id, http.RequestAborted) is { } run ? Results.Ok(State(run)) : NotFound(id));
        api.MapPost("/training-runs/{id:guid}/cancel", async (Guid id, TrainingRuns runs, HttpContext http) =>
            Results.Ok(new { message = await runs.CancelAsync(id, http.RequestAborted) }));
    }

    private static RunState State(TrainingRun r) => new(r.Id, r.Name, r.Status.ToString(), r.Phase, r.Epoch, r.Epochs, r.Step, r.StepsPerEpoch,
        r.Attempts, r.ResumedAfterEpoch, r.Device, r.EtaSeconds, r.Error, r.ErrorReference, r.ModelVersionId, r.BestKappa, r.BestReferableAuc,
        r.EpochMetrics.Select(e => new EpochState(e.Epoch, e.TrainLoss, e.ValidationLoss, e.Kappa, e.ReferableAuc, e.Seconds, e.Id)).ToList());

    private static IResult NotFound(Guid id) =>
        Results.Problem(statusCode: 404, title: "No such training run", detail: $"There is no training run {id}.");
}
