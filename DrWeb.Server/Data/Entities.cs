using Microsoft.AspNetCore.Identity;

namespace DrWeb.Server.Data;

/// <summary>A person who signs in: a doctor, an educator or an admin (roles live in Identity's tables).</summary>
public sealed class DrWebUser : IdentityUser;

/// <summary>One uploaded fundus photograph and what was said about it.</summary>
public sealed class Case
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>SHA-256 of the original bytes; the file lives in the image store under this name.</summary>
    public required string ImageHash { get; set; }

    public required string FileName { get; set; }
    public required string Format { get; set; }
    public int Width { get; set; }
    public int Height { get; set; }

    /// <summary>The clinic's patient identifier, if given. Never logged.</summary>
    public string? PatientId { get; set; }

    /// <summary><c>left</c> or <c>right</c>, if given.</summary>
    public string? Eye { get; set; }

    /// <summary>The uploading doctor's own grade, if given, for later comparison.</summary>
    public int? DoctorGrade { get; set; }

    public string? UploadedBy { get; set; }

    public List<Prediction> Predictions { get; set; } = [];
}

/// <summary>A model's grading of a case, stored as shown so that reopening never recomputes it.</summary>
public sealed class Prediction
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public Guid CaseId { get; set; }
    public Case? Case { get; set; }
    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>Which model graded it: folder name and label, e.g. <c>starter-resnet18 (demonstration model, ...)</c>.</summary>
    public required string ModelVersion { get; set; }

    public float P0 { get; set; }
    public float P1 { get; set; }
    public float P2 { get; set; }
    public float P3 { get; set; }
    public float P4 { get; set; }

    public int Grade { get; set; }
    public bool Referable { get; set; }
    public float ReferableProbability { get; set; }
    public required string ReferableRule { get; set; }

    public required string CamLayer { get; set; }

    /// <summary>SHA-256 of the overlay PNG in the image store.</summary>
    public required string OverlayHash { get; set; }

    public double DurationMs { get; set; }

    public float[] Probabilities => [P0, P1, P2, P3, P4];
}

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
