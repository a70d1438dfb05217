using DrWeb.Server.Platform.Database;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Accounts;

/// <summary>The events DrWeb's audit log records; the names are stored, so they never change.</summary>
public static class AuditAction
{
    public const string SignIn = "sign-in";
    public const string SignInFailed = "sign-in-failed";
    public const string UserCreated = "user-created";
    public const string RolesChanged = "roles-changed";
    public const string UserLocked = "user-locked";
    public const string UserUnlocked = "user-unlocked";
    public const string UserDeleted = "user-deleted";
    public const string TokenIssued = "token-issued";
    public const string TokenRevoked = "token-revoked";
    public const string ModelActivated = "model-activated";
    public const string OperatingPointChanged = "operating-point-changed";
    public const string CaseViewed = "case-viewed";
    public const string LessonExported = "lesson-exported";
    public const string ExamViewed = "exam-viewed";
    public const string ExamConfirmed = "exam-confirmed";
    public const string StarterModelReplaced = "starter-model-replaced";

    public static readonly IReadOnlyList<string> All =
    [
        SignIn, SignInFailed, UserCreated, RolesChanged, UserLocked, UserUnlocked, UserDeleted, TokenIssued, TokenRevoked,
        ModelActivated, OperatingPointChanged, CaseViewed, LessonExported, ExamViewed, ExamConfirmed, StarterModelReplaced,
    ];

    /// <summary>The actor of events that no signed-in user caused (a scheduled promotion, the command line).</summary>
    public const string System = "system";
}

/// <summary>Filters for the audit page.</summary>
public sealed record AuditFilter(string? Action = null, string? Actor = null, DateTimeOffset? From = null, DateTimeOffset? To = null,
    int Skip = 0, int Take = 100);

/// <summary>
/// Appends audit entries and reads them back. An entry is written in its own short transaction, after the change it
/// records has been saved, so a failed change leaves no entry claiming it happened.
/// </summary>
public sealed class AuditLog(IDbContextFactory<DrWebDbContext> dbFactory)
{
    public async Task RecordAsync(string action, string? actor, string? subject = null, string? detail = null, string? address = null,
        CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        db.AuditEntries.Add(new AuditEntry
        {
            Action = action, Actor = Clip(string.IsNullOrWhiteSpace(actor) ? AuditAction.System : actor, 256)!,
            Subject = Clip(subject, 256), Detail = Clip(detail, 1000), Address = Clip(address, 64),
        });
        await db.SaveChangesAsync(token);
    }

    public async Task<(List<AuditEntry> Entries, int Total)> ListAsync(AuditFilter filter, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        IQueryable<AuditEntry> q = db.AuditEntries.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(filter.Action)) q = q.Where(e => e.Action == filter.Action);
        if (!string.IsNullOrWhiteSpace(filter.Actor)) q = q.Where(e => e.Actor.Contains(filter.Actor.Trim()));
        if (filter.From is { } from) q = q.Where(e => e.TimeUtc >= from);
        if (filter.To is { } to) q = q.Where(e => e.TimeUtc < to);
        int total = await q.CountAsync(token);
        var entries = await q.OrderByDescending(e => e.TimeUtc).ThenByDescending(e => e.Id)
            .Skip(Math.Max(0, filter.Skip)).Take(Math.Clamp(filter.Take, 1, 1000)).ToListAsync(token);
        return (entries, total);
    }

    private static string? Clip(string? s, int max) => s is null ? null : s.Length <= max ? s : s[..max];
}
