using System.Security.Claims;
using DrWeb.Server.Training;

namespace DrWeb.Server.Registry;

/// <summary>
/// The model registry for scripts: list the versions and activate one (Admin API tokens only, as the Models page).
/// Activation loads the weights on the node asked; the other nodes follow within their poll interval.
/// </summary>
public static class RegistryApi
{
    public sealed record VersionState(Guid Id, string Name, string DisplayName, string Source, bool IsActive, DateTimeOffset? ActivatedUtc);

    public static void MapRegistryApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/models").RequireAuthorization(TrainingApi.Policy).DisableAntiforgery();
        api.MapGet("", async (ModelRegistry registry, HttpContext http) =>
            Results.Ok((await registry.ListAsync(http.RequestAborted))
                .Select(v => new VersionState(v.Id, v.Name, v.DisplayName, v.Source.ToString(), v.IsActive, v.ActivatedUtc))));
        api.MapPost("{id:guid}/activate", async (Guid id, ModelRegistry registry, ClaimsPrincipal user, HttpContext http) =>
        {
            var result = await registry.ActivateAsync(id, user.Identity?.Name ?? "api", http.RequestAborted);
            return result.Succeeded
                ? Results.Ok(new { message = result.Message })
                : Results.Problem(statusCode: 422, title: "Model not activated", detail: result.Message);
        });
    }
}
