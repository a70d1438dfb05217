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

    /// <summary>
    /// SHA-256 over the fields and every file's name and bytes: what makes two requests "the same request". An endpoint
    /// other than the screening one names itself in <paramref name="endpoint"/>, so one key cannot answer for both.
    /// </summary>
    public static async Task<string> HashAsync(IFormCollection form, string? endpoint = null)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        if (endpoint is not null) hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"endpoint {endpoint}\n"));
        foreach (var field in form.OrderBy(f => f.Key, StringComparer.Ordinal))
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{field.Key}={field.Value}\n"));
        var buffer = new byte[81920];
        foreach (var file in form.Files)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"file {file.Name} {file.FileName} {file.Length}\n"));
            await using var stream = file.OpenReadStream();
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0) hash.AppendData(buffer, 0, read);
        }
        return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
    }

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
