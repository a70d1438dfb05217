using DrWeb.Server.Platform.Database;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Screening;

/// <summary>What to do with a request that carries an <c>Idempotency-Key</c>.</summary>
public abstract record IdempotencyDecision
{
    /// <summary>The key is new: process the request, then <see cref="IdempotentRequests.CompleteAsync"/> with its answer.</summary>
    public sealed record Process(long Id) : IdempotencyDecision;

    /// <summary>The key was answered before: send that answer again.</summary>
    public sealed record Replay(int StatusCode, string Json) : IdempotencyDecision;

    /// <summary>The first request with this key is still being processed.</summary>
    public sealed record InProgress : IdempotencyDecision;

    /// <summary>The key was used for a different request.</summary>
    public sealed record Mismatch : IdempotencyDecision;
}

/// <summary>
/// Remembers, for <see cref="Lifetime"/>, the answer to each (user, Idempotency-Key) so that a client retrying after a
/// lost response gets the first answer instead of doing the work twice. The database's unique index decides which of
/// two concurrent requests with one key goes first.
/// </summary>
public sealed class IdempotentRequests(IDbContextFactory<DrWebDbContext> dbFactory, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    /// <summary>A usable key: 1-128 visible ASCII characters (a UUID is typical).</summary>
    public static bool IsValidKey(string key) => key.Length is > 0 and <= 128 && key.All(c => c is > ' ' and <= '~');

    public async Task<IdempotencyDecision> BeginAsync(string userName, string key, string requestHash, CancellationToken token = default)
    {
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(token);
        await db.IdempotentRequests.Where(r => r.CreatedUtc < now - Lifetime).ExecuteDeleteAsync(token);
        // A retry is the common case and finds its row; the insert's unique-index failure decides only true races.
        var first = await db.IdempotentRequests.AsNoTracking().FirstOrDefaultAsync(r => r.UserName == userName && r.Key == key, token);
        if (first is null)
        {
            var row = new IdempotentRequest { UserName = userName, Key = key, RequestHash = requestHash, CreatedUtc = now };
            db.IdempotentRequests.Add(row);
            try
            {
                await db.SaveChangesAsync(token);
                return new IdempotencyDecision.Process(row.Id);
            }
            catch (DbUpdateException)
            {
                db.ChangeTracker.Clear();
                first = await db.IdempotentRequests.AsNoTracking().FirstAsync(r => r.UserName == userName && r.Key == key, token);
            }
        }
        if (first.RequestHash != requestHash) return new IdempotencyDecision.Mismatch();
        if (first.StatusCode is not { } status || first.ResponseJson is not { } json) return new IdempotencyDecision.InProgress();
        return new IdempotencyDecision.Replay(status, json);
    }

    public async Task CompleteAsync(long id, int statusCode, string json)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        await db.IdempotentRequests.Where(r => r.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.StatusCode, statusCode).SetProperty(r => r.ResponseJson, json));
    }

    /// <summary>Forgets a key whose request failed before doing anything, so that a retry is processed afresh.</summary>
    public async Task AbandonAsync(long id)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        await db.IdempotentRequests.Where(r => r.Id == id).ExecuteDeleteAsync();
    }
}
