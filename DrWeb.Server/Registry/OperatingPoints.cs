using System.Globalization;
using System.Text.Json;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform.Database;
using Microsoft.EntityFrameworkCore;
using OperatingPointChange = DrWeb.Server.Platform.Database.OperatingPointChange;

namespace DrWeb.Server.Registry;

/// <summary>A version's operating point with what it is chosen on; <see cref="Problem"/> says why the manifest could not be read.</summary>
public sealed record OperatingPointView(ModelVersion Version, ModelManifest? Manifest, OperatingPoint? Current,
    IReadOnlyList<OperatingPointChange> History, string? Problem);

/// <summary>
/// A version's referral threshold as a recorded, audited choice: what it is chosen on (the manifest's validation
/// scores), moving it, and its history. A move applies at once to the active model; stored gradings keep theirs.
/// </summary>
public sealed class OperatingPoints(IDbContextFactory<DrWebDbContext> dbFactory, ModelRegistry registry, ActiveModel active, AuditLog audit,
    ILogger<OperatingPoints> logger)
{
    /// <summary>What an admin needs to choose an operating point: the manifest's validation scores and current point, and the history.</summary>
    public async Task<OperatingPointView?> OperatingPointAsync(Guid id, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var version = await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Id == id, token);
        if (version is null) return null;
        ModelManifest manifest;
        try
        {
            manifest = ModelDirectory.ReadManifest(registry.Resolve(version));
        }
        catch (Exception e) when (e is IOException or InvalidDataException or CheckpointException or JsonException)
        {
            return new OperatingPointView(version, null, null, [], $"The model's manifest cannot be read: {e.Message}");
        }
        var history = await db.OperatingPointChanges.AsNoTracking().Where(c => c.ModelVersionId == id).ToListAsync(token);
        return new OperatingPointView(version, manifest, ModelRegistry.StoredOperatingPoint(version) ?? manifest.OperatingPoint,
            history.OrderByDescending(c => c.ChangedUtc).ToList(), null);
    }

    /// <summary>
    /// Moves a version's referral threshold to the point that meets <paramref name="target"/> on its validation scores,
    /// records who did it, and applies it at once if the version is active. Stored gradings keep their threshold.
    /// </summary>
    public async Task<RegistryResult> SetOperatingPointAsync(Guid id, OperatingTarget target, double value, string changedBy,
        CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var version = await db.ModelVersions.FirstOrDefaultAsync(v => v.Id == id, token);
        if (version is null) return RegistryResult.Fail("That model version no longer exists. Reload the page.");
        ModelManifest manifest;
        try
        {
            manifest = ModelDirectory.ReadManifest(registry.Resolve(version));
        }
        catch (Exception e) when (e is IOException or InvalidDataException or CheckpointException or JsonException)
        {
            return RegistryResult.Fail($"The manifest of {version.Name} cannot be read, so its operating point cannot be moved: {e.Message}");
        }
        if (manifest.ValidationScores.Count == 0)
            return RegistryResult.Fail($"{version.Name} has no recorded validation scores to choose an operating point on. " +
                                       "Calibrate it with 'DrWeb.Server calibrate --model <folder>' and import it again.");
        OperatingPoint point;
        try
        {
            point = OperatingPoint.For(ModelCalibrator.Cases(manifest.ValidationScores), target, value);
        }
        catch (ArgumentException e)
        {
            return RegistryResult.Fail($"That operating point cannot be set: {e.Message}");
        }
        var previous = ModelRegistry.StoredOperatingPoint(version) ?? manifest.OperatingPoint;
        version.OperatingPointJson = JsonSerializer.Serialize(point, ModelManifest.Json);
        version.Sensitivity = point.Sensitivity.Value;
        version.Specificity = point.Specificity.Value;
        db.OperatingPointChanges.Add(new OperatingPointChange
        {
            ModelVersionId = version.Id, ChangedBy = changedBy, PreviousThreshold = previous?.Threshold, Threshold = point.Threshold,
            Basis = point.Basis, ValidationSensitivity = point.Sensitivity.Value, ValidationSpecificity = point.Specificity.Value,
        });
        await db.SaveChangesAsync(token);
        await audit.RecordAsync(AuditAction.OperatingPointChanged, changedBy, version.Name, string.Create(CultureInfo.InvariantCulture,
            $"threshold {previous?.Threshold.ToString("0.000", CultureInfo.InvariantCulture) ?? "none"} -> {point.Threshold:0.000}, {point.Basis}"), token: token);
        if (version.IsActive) active.UpdateOperatingPoint(version.DisplayName, point);
        logger.LogInformation("Operating point of {Name} set to {Threshold} ({Basis}) by {User}", version.Name, point.Threshold, point.Basis, changedBy);
        return RegistryResult.Ok(string.Create(CultureInfo.InvariantCulture,
            $"{version.Name} now refers at P(referable) >= {point.Threshold:0.000}, {point.Basis}: validation sensitivity {point.Sensitivity}, specificity {point.Specificity}."));
    }
}
