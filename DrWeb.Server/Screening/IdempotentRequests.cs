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

/// <summary>An API answer kept as JSON text, so that a replay is byte for byte the first answer.</summary>
/// <param name="RetryAfterSeconds">Set on "busy": such an answer is not remembered, so the retry is processed.</param>
/// <param name="Replayed">This is the stored answer to an earlier request with the same key.</param>
public sealed record StoredAnswer(int Status, string Json, int? RetryAfterSeconds = null, bool Replayed = false)
{
    public static StoredAnswer Problem(int status, string title, string? detail, int? retryAfterSeconds = null) =>
        new(status, System.Text.Json.JsonSerializer.Serialize(new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = status, Title = title, Detail = detail },
            ProblemJson), retryAfterSeconds);

    /// <summary>Served as JSON, never embedded in HTML: quotes and apostrophes in messages stay readable.</summary>
    private static readonly System.Text.Json.JsonSerializerOptions ProblemJson = new(System.Text.Json.JsonSerializerOptions.Web)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
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
    /// The answer to a request with an Idempotency-Key: the first answer again for a retry, a conflict while the first
    /// is still running, a refusal for the same key with a different request, else <paramref name="work"/>'s answer
    /// (remembered unless it says "busy"). The work is finished even if the client goes away, so that its retry gets
    /// the answer; it is given no cancellation token.
    /// </summary>
    public async Task<StoredAnswer> AnswerOnceAsync(string userName, string key, string requestHash, Func<Task<StoredAnswer>> work,
        CancellationToken token = default)
    {
        switch (await BeginAsync(userName, key, requestHash, token))
        {
            case IdempotencyDecision.Replay replay:
                return new StoredAnswer(replay.StatusCode, replay.Json, Replayed: true);
            case IdempotencyDecision.InProgress:
                return StoredAnswer.Problem(409, "Request in progress",
                    "A request with this Idempotency-Key is still being processed. Retry it in a few seconds to get its result.");
            case IdempotencyDecision.Mismatch:
                return StoredAnswer.Problem(422, "Idempotency-Key reused",
                    "This Idempotency-Key was used for a different request in the last 24 hours. Use a new key for a new request.");
            case IdempotencyDecision.Process process:
                StoredAnswer answer;
                try
                {
                    answer = await work();
                }
                catch
                {
                    await AbandonAsync(process.Id);
                    throw;
                }
                // "Busy" is no answer to the request: the retry must be processed, not told again that the server was busy.
                if (answer.RetryAfterSeconds is null)
                    await CompleteAsync(process.Id, answer.Status, answer.Json);
                else
                    await AbandonAsync(process.Id);
                return answer;
            default:
                throw new InvalidOperationException("Unknown idempotency decision.");
        }
    }

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
