using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Registry;

/// <summary>What a registry action did, in words an admin can act on.</summary>

public sealed record RegistryResult(bool Succeeded, string Message, IReadOnlyList<string> Details)
{
    public static RegistryResult Ok(string message, params IReadOnlyList<string> details) => new(true, message, details);
    public static RegistryResult Fail(string message, params IReadOnlyList<string> details) => new(false, message, details);
}

/// <summary>
/// The model versions screening can use and the ImageNet checkpoints training can start from. Model folders live
/// under <c>models/</c> and checkpoints under <c>checkpoints/</c> in the data folder; nothing is registered that did not
/// load.
/// </summary>
public sealed partial class ModelRegistry(
    IDbContextFactory<DrWebDbContext> dbFactory, DataFolder data, StarterModel starter, ActiveModel active, AuditLog audit,
    ILogger<ModelRegistry> logger)
{
    /// <summary>Architectures whose torchvision ImageNet checkpoints can be imported (ResNet18's base ships with the app).</summary>
    public static readonly IReadOnlyList<string> BaseArchitectures = ["densenet121", "resnet101", "vgg16"];

    private const string AppPrefix = "app:";

    public string ModelsFolder => data.Sub("models");
    public string CheckpointsFolder => data.Sub("checkpoints");

    public string Resolve(ModelVersion version) => version.Location.StartsWith(AppPrefix, StringComparison.Ordinal)
        ? Path.Combine(AppContext.BaseDirectory, version.Location[AppPrefix.Length..])
        : Path.Combine(data.Root, version.Location);

    public string Resolve(BaseCheckpoint checkpoint) => Path.Combine(data.Root, checkpoint.Location);

    public async Task<List<ModelVersion>> ListAsync(CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        return await db.ModelVersions.AsNoTracking().OrderByDescending(v => v.RegisteredUtc).ToListAsync(token);
    }

    public async Task<List<BaseCheckpoint>> ListBasesAsync(CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        return await db.BaseCheckpoints.AsNoTracking().OrderBy(b => b.Architecture).ThenByDescending(b => b.ImportedUtc).ToListAsync(token);
    }

    /// <summary>
    /// Registers the starter model on first start and names the active version for screening (the starter when no
    /// admin has chosen one). The weights load on first use. After an upgrade that ships a different starter in the
    /// same folder, its row is made to describe the model that now loads from there.
    /// </summary>
    public void Start()
    {
        using var db = dbFactory.CreateDbContext();
        var starterRow = db.ModelVersions.FirstOrDefault(v => v.Source == ModelSource.Starter);
        string? replaced = null;
        if (starterRow is null && starter.Manifest is { } manifest)
        {
            string name = Path.GetFileName(starter.Folder.TrimEnd('/'));
            starterRow = FromManifest(UniqueName(db, name), AppPrefix + Path.GetRelativePath(AppContext.BaseDirectory, starter.Folder),
                ModelSource.Starter, manifest);
            db.ModelVersions.Add(starterRow);
        }
        else if (starterRow is not null && starter.Manifest is { } shipped && IsAnotherModel(starterRow, shipped))
            replaced = DescribeShippedStarter(starterRow, shipped);
        var chosen = db.ModelVersions.Local.FirstOrDefault(v => v.IsActive) ?? db.ModelVersions.FirstOrDefault(v => v.IsActive) ?? starterRow;
        if (chosen is not null && !chosen.IsActive)
        {
            chosen.IsActive = true;
            chosen.ActivatedUtc = DateTimeOffset.UtcNow;
        }
        db.SaveChanges();
        if (replaced is not null)
            audit.RecordAsync(AuditAction.StarterModelReplaced, AuditAction.System, starterRow!.Name, replaced).GetAwaiter().GetResult();

        if (chosen is null)
            active.ReportUnavailable(starter.Problem is null ? ActiveModel.NoModel : $"{ActiveModel.NoModel} ({starter.Problem})");
        else if (!ModelDirectory.IsModelDirectory(Resolve(chosen)))
            active.ReportUnavailable($"The active model {chosen.Name} is missing from {Resolve(chosen)}. Activate another version on the Models page, or import one.");
        else
            active.ActivateOnFirstUse(Resolve(chosen), chosen.DisplayName, StoredOperatingPoint(chosen));
    }

    /// <summary>
    /// Makes a version the one screening uses. The weights are loaded before the switch, so a version that does not
    /// load leaves the active one in place; gradings in flight finish on the model they started with.
    /// </summary>
    public async Task<RegistryResult> ActivateAsync(Guid id, string actor, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var chosen = await db.ModelVersions.FirstOrDefaultAsync(v => v.Id == id, token);
        if (chosen is null)
            return RegistryResult.Fail("That model version no longer exists. Reload the page.");
        try
        {
            await Task.Run(() => active.Activate(Resolve(chosen), chosen.DisplayName, StoredOperatingPoint(chosen)), token);
        }
        catch (Exception e) when (e is CheckpointException or IOException or InvalidDataException or InvalidOperationException)
        {
            logger.LogError(e, "Activating model version {Name} failed", chosen.Name);
            return RegistryResult.Fail($"{chosen.Name} could not be loaded, so the active model is unchanged: {e.Message}");
        }
        foreach (var v in await db.ModelVersions.Where(v => v.IsActive).ToListAsync(token))
            v.IsActive = false;
        chosen.IsActive = true;
        chosen.ActivatedUtc = DateTimeOffset.UtcNow;
        await db.SaveChangesAsync(token);
        await audit.RecordAsync(AuditAction.ModelActivated, actor, chosen.Name, chosen.DisplayName, token: token);
        return RegistryResult.Ok($"{chosen.DisplayName} is now active for screening.");
    }

    /// <summary>
    /// Whether the starter row was registered from another model than the one shipped now. Models are told apart by
    /// when they were made; a second is the tolerance because PostgreSQL keeps microseconds and manifests keep ticks.
    /// </summary>
    private static bool IsAnotherModel(ModelVersion row, ModelManifest shipped) =>
        (row.CreatedUtc - shipped.CreatedUtc).Duration() > TimeSpan.FromSeconds(1);

    /// <summary>
    /// Rewrites the starter row's manifest facts from the model shipped now. An admin's operating point goes: it was
    /// chosen on the old model's ROC curve and would mean another sensitivity on the new one. Gradings already stored
    /// keep the model name and threshold they were made with.
    /// </summary>
    private static string DescribeShippedStarter(ModelVersion row, ModelManifest shipped)
    {
        var now = FromManifest(row.Name, row.Location, ModelSource.Starter, shipped);
        string detail = $"the app ships a model made {shipped.CreatedUtc:yyyy-MM-dd HH:mm} UTC in place of the one made {row.CreatedUtc:yyyy-MM-dd HH:mm} UTC" +
                        (row.OperatingPointJson is null ? "" : "; the operating point chosen for the old model was dropped, the new model's own applies");
        row.Architecture = now.Architecture; row.Head = now.Head; row.TrainablePolicy = now.TrainablePolicy; row.Preprocessing = now.Preprocessing;
        row.BaseWeights = now.BaseWeights; row.DataFingerprint = now.DataFingerprint; row.Label = now.Label; row.CreatedUtc = now.CreatedUtc;
        row.TrainImages = now.TrainImages; row.ValidationImages = now.ValidationImages; row.ReferableAuc = now.ReferableAuc;
        row.Sensitivity = now.Sensitivity; row.Specificity = now.Specificity; row.Accuracy = now.Accuracy; row.Kappa = now.Kappa;
        row.Device = now.Device; row.TrainingSeconds = now.TrainingSeconds; row.OperatingPointJson = null;
        return detail;
    }

    /// <summary>An admin's operating point for the version, or null when it uses its manifest's.</summary>
    public static OperatingPoint? StoredOperatingPoint(ModelVersion version) => version.OperatingPointJson is { } json
        ? JsonSerializer.Deserialize<OperatingPoint>(json, ModelManifest.Json)
        : null;

    public static ModelVersion FromManifest(string name, string location, ModelSource source, ModelManifest manifest)
    {
        var referable = manifest.Validation?.Referable;
        return new ModelVersion
        {
            Name = name, Location = location, Source = source, Architecture = manifest.Architecture, Head = manifest.Head.ToString(),
            TrainablePolicy = manifest.TrainablePolicy == "custom" ? string.Join(",", manifest.TrainablePrefixes.Select(p => p.TrimEnd('.'))) : manifest.TrainablePolicy,
            Preprocessing = Describe(manifest.Preprocessing),
            BaseWeights = manifest.BaseWeights, DataFingerprint = manifest.DataFingerprint, Label = manifest.Label,
            CreatedUtc = manifest.CreatedUtc, TrainImages = manifest.TrainImages, ValidationImages = manifest.ValidationImages,
            ReferableAuc = referable?.RocAuc is { } auc && double.IsFinite(auc) ? auc : null,
            Sensitivity = manifest.OperatingPoint?.Sensitivity.Value ?? referable?.Sensitivity.Value,
            Specificity = manifest.OperatingPoint?.Specificity.Value ?? referable?.Specificity.Value,
            Accuracy = manifest.Validation?.Accuracy.Value, Kappa = manifest.Validation?.QuadraticWeightedKappa,
            Device = manifest.Device, TrainingSeconds = manifest.TrainingSeconds,
        };
    }

    /// <summary>A model folder name derived from <paramref name="name"/> that no version or folder uses yet.</summary>
    public string UniqueModelName(string name)
    {
        using var db = dbFactory.CreateDbContext();
        return UniqueName(db, Slug(name));
    }

    /// <summary>A folder name derived from <paramref name="name"/> that no version (saved or about to be) or folder uses yet.</summary>
    public string UniqueModelName(DrWebDbContext db, string name) => UniqueName(db, Slug(name));

    private string UniqueName(DrWebDbContext db, string name)
    {
        string candidate = name;
        for (int i = 2; db.ModelVersions.Any(v => v.Name == candidate) || db.ModelVersions.Local.Any(v => v.Name == candidate)
                        || Directory.Exists(Path.Combine(ModelsFolder, candidate)); i++)
            candidate = $"{name}-{i}";
        return candidate;
    }

    private static string Slug(string name)
    {
        string slug = NotSlug().Replace(name.Trim().ToLowerInvariant(), "-").Trim('-', '.');
        return slug.Length == 0 ? "model" : slug[..Math.Min(slug.Length, 80)];
    }

    [GeneratedRegex(@"[^a-z0-9._-]+")]
    private static partial Regex NotSlug();

    /// <summary>How a model prepares photographs, as shown in the registry: input size, crop, colour recipe, normalisation.</summary>
    public static string Describe(Preprocessing prep) =>
        $"{prep.InputSize} px, {(prep.CropFundus ? "fundus crop" : "whole frame")}, recipe {prep.Recipe.ToString().ToLowerInvariant()}, {prep.Normalisation}";
}
