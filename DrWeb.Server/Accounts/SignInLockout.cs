using System.Collections.Concurrent;
using DrWeb.Server.Platform;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Accounts;

/// <summary>
/// Locks an account for one client address after too many wrong passwords from that address. Identity's own lockout
/// counts failures per account from anywhere, so anyone who knows an e-mail (the admin's included) could keep that
/// account locked with a few wrong passwords a minute; here the owner, signing in from another address, is not
/// affected. Guessing from many addresses is slowed by the per-address rate limit and refused common passwords.
/// </summary>
/// <remarks>Counts live in this process: a restart forgets them, and each node of a cluster counts on its own.</remarks>
public sealed class SignInLockout(IOptions<DrWebOptions> options, TimeProvider clock)
{
    /// <summary>Most (account, address) pairs remembered; beyond it, the stalest are forgotten first.</summary>
    public const int MaxTracked = 50_000;

    private readonly ConcurrentDictionary<(string Account, string Address), Failures> _failures = new();

    private SignInLockoutOptions Settings => options.Value.SignInLockout;

    /// <summary>Whether <paramref name="account"/> is locked for sign-ins from <paramref name="address"/>.</summary>
    public bool IsLocked(string account, string address, out TimeSpan remaining)
    {
        remaining = TimeSpan.Zero;
        if (!_failures.TryGetValue(Key(account, address), out var failures)) return false;
        lock (failures)
        {
            var until = failures.LockedUntil;
            var now = clock.GetUtcNow();
            if (until is null || until <= now) return false;
            remaining = until.Value - now;
            return true;
        }
    }

    /// <summary>Counts a wrong password; returns true when this failure locks the pair.</summary>
    public bool RecordFailure(string account, string address)
    {
        var now = clock.GetUtcNow();
        var window = TimeSpan.FromMinutes(Settings.LockoutMinutes);
        var failures = _failures.GetOrAdd(Key(account, address), _ => new Failures());
        bool locked;
        lock (failures)
        {
            // Failures older than one lockout period no longer count: a user who mistypes now and then is never locked.
            if (now - failures.Since > window || failures.LockedUntil <= now) failures.Reset(now);
            failures.Count++;
            failures.LastAt = now;
            locked = failures.Count >= Settings.FailuresPerAddress && failures.LockedUntil is null;
            if (locked) failures.LockedUntil = now + window;
        }
        if (_failures.Count > MaxTracked) ForgetStalest();
        return locked;
    }

    /// <summary>A correct password from the address clears its count.</summary>
    public void RecordSuccess(string account, string address) => _failures.TryRemove(Key(account, address), out _);

    /// <summary>Clears every address's count for the account: an administrator unlocking it.</summary>
    public void Unlock(string account)
    {
        string normalized = Normalize(account);
        foreach (var key in _failures.Keys)
            if (key.Account == normalized) _failures.TryRemove(key, out _);
    }

    public int TrackedPairs => _failures.Count;

    private void ForgetStalest()
    {
        var now = clock.GetUtcNow();
        var window = TimeSpan.FromMinutes(Settings.LockoutMinutes);
        foreach (var (key, failures) in _failures)
            if (now - failures.LastAt > window && !(failures.LockedUntil > now)) _failures.TryRemove(key, out _);
        int excess = _failures.Count - MaxTracked * 9 / 10;
        if (excess <= 0) return;
        // A live lock is kept: forgetting it would hand the sprayer a fresh set of guesses.
        foreach (var key in _failures.Where(p => !(p.Value.LockedUntil > now)).OrderBy(p => p.Value.LastAt).Take(excess).Select(p => p.Key).ToList())
            _failures.TryRemove(key, out _);
    }

    private static (string, string) Key(string account, string address) => (Normalize(account), address);

    private static string Normalize(string account) => account.Trim().ToUpperInvariant();

    private sealed class Failures
    {
        public DateTimeOffset Since { get; private set; }
        public DateTimeOffset LastAt { get; set; }
        public int Count { get; set; }
        public DateTimeOffset? LockedUntil { get; set; }

        public void Reset(DateTimeOffset now)
        {
            Since = now;
            Count = 0;
            LockedUntil = null;
        }
    }
}
