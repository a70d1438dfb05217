using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Training;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform.Database;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Training;

/// <summary>
/// Retraining for scripts ("every night, register the new export and retrain"): the same services as the Training
/// page, Admin API tokens only, errors as RFC 7807 problem details.
/// </summary>
public static class TrainingApi
{
    public const string Policy = "TrainingApi";

    public sealed record DatasetRequest(string Path, string? Name);
    /// <summary>
    /// A run as posted: <c>settings</c>, and optionally a <c>preset</c> (<c>screening</c>, <c>paper</c>) whose options,
    /// preprocessing and head the settings start from; whatever <c>settings</c> names overrides the preset, field by field.
    /// </summary>
    public sealed record RunRequest(RunSettings Settings, string? Name, DateTimeOffset? StartAt);

    /// <summary>Reads a posted run: the preset's settings, overlaid with the request's own <c>settings</c> object.</summary>
    public static RunRequest ReadRunRequest(JsonObject body, JsonSerializerOptions json)
    {
        var given = body.FirstOrDefault(kv => kv.Key.Equals("settings", StringComparison.OrdinalIgnoreCase)).Value as JsonObject ?? [];
        JsonObject settings = (JsonObject)given.DeepClone();
        if (body.FirstOrDefault(kv => kv.Key.Equals("preset", StringComparison.OrdinalIgnoreCase)).Value is { } presetNode)
        {
            var preset = TrainingPreset.Parse(presetNode.GetValue<string>());
            var start = new RunSettings
            {
                Options = preset.Options, CropFundus = preset.CropFundus, Recipe = preset.Recipe, Head = Heads.Parse(preset.Head),
            };
            settings = (JsonObject)JsonSerializer.SerializeToNode(start, json)!;
            Overlay(settings, given);
        }
        var request = new JsonObject(body.Where(kv => !kv.Key.Equals("settings", StringComparison.OrdinalIgnoreCase)
                                                      && !kv.Key.Equals("preset", StringComparison.OrdinalIgnoreCase))
                                         .Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())))
        {
            ["settings"] = settings,
        };
        return request.Deserialize<RunRequest>(json) ?? throw new JsonException("The request body is empty.");
    }

    /// <summary>Copies <paramref name="overrides"/> into <paramref name="target"/>, merging nested objects and matching names without regard to case.</summary>
    private static void Overlay(JsonObject target, JsonObject overrides)
    {
        foreach (var (key, value) in overrides)
        {
            string name = target.Select(kv => kv.Key).FirstOrDefault(k => k.Equals(key, StringComparison.OrdinalIgnoreCase)) ?? key;
            if (value is JsonObject nested && target[name] is JsonObject existing)
                Overlay(existing, nested);
            else
                target[name] = value?.DeepClone();
        }
    }

    public sealed record RunState(Guid Id, string Name, string Status, string Phase, int Epoch, int Epochs, int Step, int StepsPerEpoch,
        int Attempts, int? ResumedAfterEpoch, string? Device, string? Node, double? EtaSeconds, string? Error, string? ErrorReference,
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
        api.MapPost("/training-runs", async (JsonObject body, TrainingRuns runs, ClaimsPrincipal user, HttpContext http,
            IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) =>
        {
            RunRequest request;
            try
            {
                request = ReadRunRequest(body, json.Value.SerializerOptions);
            }
            catch (Exception e) when (e is ArgumentException or JsonException or InvalidOperationException or FormatException)
            {
                return Results.Problem(statusCode: 422, title: "Run refused", detail: e.Message);
            }
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
        r.Attempts, r.ResumedAfterEpoch, r.Device, r.Node, r.EtaSeconds, r.Error, r.ErrorReference, r.ModelVersionId, r.BestKappa, r.BestReferableAuc,
        r.EpochMetrics.Select(e => new EpochState(e.Epoch, e.TrainLoss, e.ValidationLoss, e.Kappa, e.ReferableAuc, e.Seconds, e.Id)).ToList());

    private static IResult NotFound(Guid id) =>
        Results.Problem(statusCode: 404, title: "No such training run", detail: $"There is no training run {id}.");
}
