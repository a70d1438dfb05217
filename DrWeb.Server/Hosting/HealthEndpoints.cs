using System.Text.Json;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Registry;
using DrWeb.Server.Screening;
using Hangfire;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Hosting;

/// <summary>
/// <c>/healthz</c>: the process answers (liveness, no checks). <c>/readyz</c>: the database is reachable and migrated,
/// Hangfire's storage answers, and on a screening node the active model is loaded and the screening queue has room.
/// Anyone may ask (a load balancer has no account) and gets only the status; an admin also gets each check's detail.
/// </summary>
public static class HealthEndpoints
{
    private const string Ready = "ready";

    public static IServiceCollection AddDrWebHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddDbContextCheck<DrWebDbContext>("database", tags: [Ready])
            .AddCheck<MigrationsAppliedCheck>("migrations", tags: [Ready])
            .AddCheck<JobStorageCheck>("jobs", tags: [Ready])
            .AddCheck<PostgresServerCheck>("postgres", tags: [Ready])
            .AddCheck<ActiveModelCheck>("model", tags: [Ready])
            .AddCheck<ScreeningQueueCheck>("screening-queue", tags: [Ready]);
        return services;
    }

    public static WebApplication MapDrWebHealth(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync }).AllowAnonymous();
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = WriteAsync }).AllowAnonymous();
        return app;
    }

    private static async Task WriteAsync(HttpContext http, HealthReport report)
    {
        if (!await IsAdminAsync(http))
        {
            http.Response.ContentType = "text/plain";
            await http.Response.WriteAsync(report.Status.ToString());
            return;
        }
        http.Response.ContentType = "application/json";
        var node = http.RequestServices.GetRequiredService<NodeIdentity>();
        await http.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            node = node.Name,
            roles = node.Roles.Order(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description ?? e.Value.Exception?.Message,
                milliseconds = Math.Round(e.Value.Duration.TotalMilliseconds, 1),
            }),
        }));
    }

    /// <summary>An admin's sign-in cookie, or an admin's API token (monitoring scripts use one).</summary>
    private static async Task<bool> IsAdminAsync(HttpContext http)
    {
        if (http.User.IsInRole(AccountSetup.Admin)) return true;
        if (http.Request.Headers.Authorization.Count == 0) return false;
        var token = await http.AuthenticateAsync(ApiTokenAuthentication.Scheme);
        return token.Succeeded && token.Principal.IsInRole(AccountSetup.Admin);
    }
}

/// <summary>Unhealthy while the provider's migrations are not all applied (a node started before <c>migrate</c> ran).</summary>
public sealed class MigrationsAppliedCheck(IDbContextFactory<DrWebDbContext> dbFactory) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var pending = (await db.Database.GetPendingMigrationsAsync(token)).ToList();
        return pending.Count == 0
            ? HealthCheckResult.Healthy($"{db.Database.ProviderName}: all migrations applied")
            : HealthCheckResult.Unhealthy($"{pending.Count} migration(s) pending, e.g. {pending[0]}: run `DrWeb.Server migrate`.");
    }
}

/// <summary>
/// On PostgreSQL, the server answers a query through Npgsql itself (the NpgSql health check), apart from EF Core's
/// context check; on SQLite there is no server to ask.
/// </summary>
public sealed class PostgresServerCheck(IOptions<DrWebOptions> options, IConfiguration configuration, DataFolder data) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken token = default)
    {
        var database = options.Value.Database;
        if (database.Provider != DatabaseProvider.Postgres)
            return Task.FromResult(HealthCheckResult.Healthy("SQLite: no database server to ask"));
        var check = new HealthChecks.NpgSql.NpgSqlHealthCheck(
            new HealthChecks.NpgSql.NpgSqlHealthCheckOptions(DrWebDatabase.ConnectionString(configuration, database, data)));
        return check.CheckHealthAsync(context, token);
    }
}

/// <summary>Hangfire's storage (SQLite file or PostgreSQL schema) answers and lists the servers that serve it.</summary>
public sealed class JobStorageCheck(JobStorage storage) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken token = default)
    {
        try
        {
            var servers = storage.GetMonitoringApi().Servers();
            return Task.FromResult(HealthCheckResult.Healthy(
                $"{servers.Count} job server(s): {string.Join(", ", servers.Select(s => $"{s.Name} [{string.Join(",", s.Queues)}]"))}"));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("Hangfire's storage does not answer: " + e.Message));
        }
    }
}

/// <summary>
/// On a node with the <c>screening</c> role, the active model is loaded; the first probe loads it, so a load balancer
/// sends no upload to a node that would still have to load its weights.
/// </summary>
public sealed class ActiveModelCheck(ActiveModel active, NodeIdentity node) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken token = default)
    {
        if (!node.Has(NodeIdentity.Screening)) return HealthCheckResult.Healthy("not a screening node");
        bool loaded = await Task.Run(() => active.IsLoaded, token);
        return loaded ? HealthCheckResult.Healthy($"grading with {active.Version}") : HealthCheckResult.Unhealthy(active.Problem ?? ActiveModel.NoModel);
    }
}

/// <summary>The screening queue has room for another upload; a full node would answer 503 to the next one.</summary>
public sealed class ScreeningQueueCheck(ScreeningService screening) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken token = default) =>
        Task.FromResult(screening.Admitted < screening.AdmissionLimit
            ? HealthCheckResult.Healthy($"{screening.Admitted} of {screening.AdmissionLimit} upload places in use")
            : HealthCheckResult.Unhealthy($"screening queue full: {screening.Admitted} of {screening.AdmissionLimit} places in use"));
}
