using System.Collections.Concurrent;

namespace DrWeb.Server.Accounts;

/// <summary>
/// Users whose access was just taken away (deleted, roles changed, locked), with the security stamp they were given
/// then. A sign-in cookie carrying any other stamp is refused on its next request, without waiting for the
/// security-stamp check that runs every <see cref="SessionPolicy.StampValidationInterval"/> (which is what ends
/// sessions held on other servers). A sign-in made afterwards carries the new stamp and is not affected.
/// </summary>
public sealed class SessionRevocations(TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, (string? Stamp, DateTimeOffset At)> _revoked = new(StringComparer.Ordinal);

    /// <param name="currentStamp">The user's stamp after the change; null when the user no longer exists.</param>
    public void Revoke(string userId, string? currentStamp)
    {
        var now = clock.GetUtcNow();
        _revoked[userId] = (currentStamp, now);
        // Older cookies have expired by then; keep the set small.
        foreach (var (id, entry) in _revoked)
            if (now - entry.At > SessionPolicy.CookieLifetime) _revoked.TryRemove(id, out _);
    }

    /// <summary>Whether a session of <paramref name="userId"/> whose cookie carries <paramref name="stamp"/> was revoked.</summary>
    public bool IsRevoked(string userId, string? stamp) =>
        _revoked.TryGetValue(userId, out var entry) && (entry.Stamp is null || entry.Stamp != stamp);
}

/// <summary>How long sign-ins last and how often they are checked against the account.</summary>
public static class SessionPolicy
{
    /// <summary>Identity's security stamp is compared with the database at least this often (the default is 30 minutes).</summary>
    public static readonly TimeSpan StampValidationInterval = TimeSpan.FromMinutes(1);

    /// <summary>How often an open page (a Blazor circuit) checks that its user still has access.</summary>
    public static readonly TimeSpan CircuitRevalidationInterval = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan CookieLifetime = TimeSpan.FromDays(14);
}
