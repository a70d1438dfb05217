using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Registry;

/// <summary>
/// Keeps this node's screening model in step with the database when several nodes share it: every
/// <see cref="ClusterOptions.ActivationPollInterval"/> it reads which version is active (and its operating point) and,
/// when another node changed it, loads that version here. Gradings in flight finish on the model they started with.
/// Polling a one-row query is simpler than LISTEN/NOTIFY and works on both providers; the delay is at most one interval
/// plus the load.
/// </summary>
public sealed class ActivationFollower(IDbContextFactory<DrWebDbContext> dbFactory, ModelRegistry registry, ActiveModel active,
    IOptions<DrWebOptions> options, ILogger<ActivationFollower> logger) : BackgroundService
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(2);

    private sealed record Seen(Guid Id, DateTimeOffset? ActivatedUtc, string? OperatingPointJson);

    public TimeSpan Interval => options.Value.Cluster.ActivationPollInterval
        ?? (options.Value.Database.Provider == DatabaseProvider.Postgres ? DefaultInterval : TimeSpan.Zero);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Interval <= TimeSpan.Zero) return;
        Seen? seen = null;
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                seen = await FollowAsync(seen, stoppingToken);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Could not read the active model version; trying again in {Interval}", Interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task<Seen?> FollowAsync(Seen? seen, CancellationToken token)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var row = await db.ModelVersions.AsNoTracking().Where(v => v.IsActive).FirstOrDefaultAsync(token);
        if (row is null) return seen;
        var now = new Seen(row.Id, row.ActivatedUtc, row.OperatingPointJson);
        if (now == seen) return seen;
        var point = ModelRegistry.StoredOperatingPoint(row);
        if (active.NamedVersion != row.DisplayName)
        {
            try
            {
                await Task.Run(() => active.Activate(registry.Resolve(row), row.DisplayName, point), token);
                logger.LogInformation("Followed the activation of {Version} made on another node", row.DisplayName);
            }
            catch (Exception e) when (e is Ml.Architectures.CheckpointException or IOException or InvalidDataException or InvalidOperationException)
            {
                // Logged once per change: the version stays the one this node has until the active row changes again.
                logger.LogError(e, "Model {Version} is active in the database but could not be loaded on this node from {Folder}",
                    row.DisplayName, registry.Resolve(row));
            }
        }
        else if (point is not null && seen is not null && seen.OperatingPointJson != now.OperatingPointJson)
        {
            active.UpdateOperatingPoint(row.DisplayName, point);
        }
        return now;
    }
}
