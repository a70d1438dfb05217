using System.Security.Cryptography;
using DrWeb.Server.Platform.Database;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Accounts;

/// <summary>Issues, lists, revokes and checks per-user API tokens; issuing and revoking are audited.</summary>
public sealed class ApiTokenService(IDbContextFactory<DrWebDbContext> dbFactory, AuditLog audit)
{
    public const string Prefix = "drw_";

    /// <summary>Creates a token for a user; returns the secret, which is never stored and cannot be shown again.</summary>
    public async Task<(ApiToken Token, string Secret)> IssueAsync(string actor, string userId, string name, CancellationToken token = default)
    {
        string secret = Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var owner = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, token)
            ?? throw new ArgumentException("No such user.");
        var issued = new ApiToken { UserId = userId, Name = string.IsNullOrWhiteSpace(name) ? "API token" : name.Trim(), SecretHash = Hash(secret) };
        db.ApiTokens.Add(issued);
        await db.SaveChangesAsync(token);
        await audit.RecordAsync(AuditAction.TokenIssued, actor, owner.Email, $"token '{issued.Name}' ({issued.Id})", token: token);
        return (issued, secret);
    }

    public async Task<bool> RevokeAsync(string actor, Guid id, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var found = await db.ApiTokens.Include(t => t.User).FirstOrDefaultAsync(t => t.Id == id, token);
        if (found is null || found.RevokedUtc is not null) return false;
        found.RevokedUtc = DateTimeOffset.UtcNow;
        await db.SaveChangesAsync(token);
        await audit.RecordAsync(AuditAction.TokenRevoked, actor, found.User?.Email, $"token '{found.Name}' ({found.Id})", token: token);
        return true;
    }

    public async Task<List<ApiToken>> ListAsync(CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        return await db.ApiTokens.AsNoTracking().Include(t => t.User).OrderByDescending(t => t.CreatedUtc).ToListAsync(token);
    }

    /// <summary>The user id a valid, unrevoked secret belongs to, or null.</summary>
    public async Task<string?> ValidateAsync(string secret, CancellationToken token = default)
    {
        if (!secret.StartsWith(Prefix, StringComparison.Ordinal) || secret.Length > 100) return null;
        string hash = Hash(secret);
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var found = await db.ApiTokens.FirstOrDefaultAsync(t => t.SecretHash == hash && t.RevokedUtc == null, token);
        if (found is null) return null;
        found.LastUsedUtc = DateTimeOffset.UtcNow;
        await db.SaveChangesAsync(token);
        return found.UserId;
    }

    private static string Hash(string secret) => Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret))).ToLowerInvariant();
}
