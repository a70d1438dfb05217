using Microsoft.AspNetCore.Identity;

namespace DrWeb.Server.Platform.Database;

/// <summary>A person who signs in: a doctor, an educator or an admin (roles live in Identity's tables).</summary>
public sealed class DrWebUser : IdentityUser;

/// <summary>
/// A per-user API token for integrators. Only a SHA-256 of the secret is stored; the secret is shown once when issued.
/// </summary>
public sealed class ApiToken
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public required string UserId { get; set; }
    public DrWebUser? User { get; set; }
    public required string Name { get; set; }
    public required string SecretHash { get; set; }
    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? RevokedUtc { get; set; }
    public DateTimeOffset? LastUsedUtc { get; set; }
}

/// <summary>
/// One security-relevant event: who did what to which thing, from where. Rows are only ever added; the admin's audit
/// page reads them.
/// </summary>
public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTimeOffset TimeUtc { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>One of <see cref="Services.AuditAction"/>'s names.</summary>
    public required string Action { get; set; }

    /// <summary>The signed-in user's e-mail, the e-mail tried at a failed sign-in, or <c>system</c>.</summary>
    public required string Actor { get; set; }

    /// <summary>What was acted on: a user's e-mail, a case id, a model version, a lesson, a token's name.</summary>
    public string? Subject { get; set; }

    public string? Detail { get; set; }

    /// <summary>The client's address, where the event came from a request.</summary>
    public string? Address { get; set; }
}

/// <summary>
/// The first answer to an API request sent with an <c>Idempotency-Key</c>, so that a client's retry of the same request
/// gets that answer again instead of a second case.
/// </summary>
public sealed class IdempotentRequest
{
    public long Id { get; set; }
    public required string UserName { get; set; }
    public required string Key { get; set; }

    /// <summary>SHA-256 of the request's files and fields: the same key with a different request is refused.</summary>
    public required string RequestHash { get; set; }

    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>Null while the first request is still being processed.</summary>
    public int? StatusCode { get; set; }

    public string? ResponseJson { get; set; }
}
