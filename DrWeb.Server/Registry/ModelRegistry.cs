using OperatingPointChange = DrWeb.Server.Platform.Database.OperatingPointChange;
using DrWeb.Ml.Evaluation;
using System.Text.Json;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Architectures;
using Microsoft.EntityFrameworkCore;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Screening;
using DrWeb.Server.Platform;

namespace DrWeb.Server.Registry;

/// <summary>What a registry action did, in words an admin can act on.</summary>
/// <summary>A version's operating point with what it is chosen on; <see cref="Problem"/> says why the manifest could not be read.</summary>
public sealed record OperatingPointView(ModelVersion Version, ModelManifest? Manifest, OperatingPoint? Current,
    IReadOnlyList<OperatingPointChange> History, string? Problem);

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
    /// admin has chosen one). The weights load on first use.
    /// </summary>
    public void Start()
    {
        using var db = dbFactory.CreateDbContext();
        var starterRow = db.ModelVersions.FirstOrDefault(v => v.Source == ModelSource.Starter);
        if (starterRow is null && starter.Manifest is { } manifest)
        {
            string name = Path.GetFileName(starter.Folder.TrimEnd('/'));
            starterRow = FromManifest(UniqueName(db, name), AppPrefix + Path.GetRelativePath(AppContext.BaseDirectory, starter.Folder),
                ModelSource.Starter, manifest);
            db.ModelVersions.Add(starterRow);
        }
        var chosen = db.ModelVersions.Local.FirstOrDefault(v => v.IsActive) ?? db.ModelVersions.FirstOrDefault(v => v.IsActive) ?? starterRow;
        if (chosen is not null && !chosen.IsActive)
        {
            chosen.IsActive = true;
            chosen.ActivatedUtc = DateTimeOffset.UtcNow;
        }
        db.SaveChanges();

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

    /// <summary>An admin's operating point for the version, or null when it uses its manifest's.</summary>
    public static OperatingPoint? StoredOperatingPoint(ModelVersion version) => version.OperatingPointJson is { } json
        ? JsonSerializer.Deserialize<OperatingPoint>(json, ModelManifest.Json)
        : null;

    /// <summary>What an admin needs to choose an operating point: the manifest's validation scores and current point, and the history.</summary>
    public async Task<OperatingPointView?> OperatingPointAsync(Guid id, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var version = await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Id == id, token);
        if (version is null) return null;
        ModelManifest manifest;
        try
        {
            manifest = ModelDirectory.ReadManifest(Resolve(version));
        }
        catch (Exception e) when (e is IOException or InvalidDataException or CheckpointException or JsonException)
        {
            return new OperatingPointView(version, null, null, [], $"The model's manifest cannot be read: {e.Message}");
        }
        var history = await db.OperatingPointChanges.AsNoTracking().Where(c => c.ModelVersionId == id).ToListAsync(token);
        return new OperatingPointView(version, manifest, StoredOperatingPoint(version) ?? manifest.OperatingPoint,
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
            manifest = ModelDirectory.ReadManifest(Resolve(version));
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
        var previous = StoredOperatingPoint(version) ?? manifest.OperatingPoint;
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

    /// <summary>Imports a DrWeb model folder on this server (model.json + its weights file).</summary>
    public async Task<RegistryResult> ImportModelFolderAsync(string source, string? name = null, CancellationToken token = default)
    {
        if (!Directory.Exists(source))
            return RegistryResult.Fail($"There is no folder {source}. Give the path of a DrWeb model folder (model.json + weights).");
        string staging = Path.Combine(ModelsFolder, ".incoming-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(staging);
        try
        {
            var manifest = ModelDirectory.ReadManifest(source);
            foreach (string file in manifest.AllWeightsFiles.Prepend(ModelManifest.FileName))
            {
                string from = Path.Combine(source, file);
                if (!File.Exists(from))
                    return RegistryResult.Fail($"{source} has no {file}, which its model.json names as the weights. Copy the whole model folder.");
                File.Copy(from, Path.Combine(staging, file));
            }
            return await RegisterStagedAsync(staging, name ?? Path.GetFileName(Path.GetFullPath(source).TrimEnd('/')), token);
        }
        catch (CheckpointException e)
        {
            return RegistryResult.Fail(e.Message);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>Imports the files of a model folder uploaded from a browser: model.json and the weights file it names.</summary>
    public async Task<RegistryResult> ImportModelFilesAsync(IReadOnlyList<(string FileName, Stream Content)> files, string? name,
        CancellationToken token = default)
    {
        if (files.FirstOrDefault(f => f.FileName == ModelManifest.FileName) is not { Content: not null })
            return RegistryResult.Fail($"Choose the model folder's {ModelManifest.FileName} together with its weights file.");
        string staging = Path.Combine(ModelsFolder, ".incoming-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(staging);
        try
        {
            foreach (var (fileName, content) in files)
            {
                if (!SafeFileName().IsMatch(fileName))
                    return RegistryResult.Fail($"'{fileName}' is not a plain file name. Upload model.json and the weights file only.");
                await using var target = File.Create(Path.Combine(staging, fileName));
                await content.CopyToAsync(target, token);
            }
            var manifest = ModelDirectory.ReadManifest(staging);
            if (manifest.AllWeightsFiles.FirstOrDefault(f => !File.Exists(Path.Combine(staging, f))) is { } lacking)
                return RegistryResult.Fail($"model.json names the weights file {lacking}; choose it too (all of: {string.Join(", ", manifest.AllWeightsFiles)}).");
            return await RegisterStagedAsync(staging, string.IsNullOrWhiteSpace(name) ? null : name, token);
        }
        catch (CheckpointException e)
        {
            return RegistryResult.Fail(e.Message.Replace(staging + Path.DirectorySeparatorChar, "").Replace(staging, "the upload"));
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    private async Task<RegistryResult> RegisterStagedAsync(string staging, string? name, CancellationToken token)
    {
        ModelManifest manifest;
        try
        {
            // Loading proves the folder: manifest, architecture, base weights and every tensor's name and shape.
            var (model, loaded) = await Task.Run(() => ModelDirectory.Load(staging), token);
            model.Dispose();
            manifest = loaded;
        }
        catch (ArgumentException e)
        {
            return RegistryResult.Fail($"The model folder does not describe a model DrWeb can build: {e.Message}");
        }
        catch (CheckpointMismatchException e)
        {
            return RegistryResult.Fail(CleanMessage(e.Message, staging), MismatchDetails(e));
        }
        catch (CheckpointException e)
        {
            return RegistryResult.Fail(CleanMessage(e.Message, staging));
        }

        await using var db = await dbFactory.CreateDbContextAsync(token);
        string finalName = UniqueName(db, Slug(name ?? $"imported-{DateTime.UtcNow:yyyyMMdd-HHmmss}"));
        string target = Path.Combine(ModelsFolder, finalName);
        Directory.Move(staging, target);
        var row = FromManifest(finalName, Path.GetRelativePath(data.Root, target), ModelSource.Imported, manifest);
        db.ModelVersions.Add(row);
        await db.SaveChangesAsync(token);
        logger.LogInformation("Model version {Name} imported ({Architecture})", finalName, manifest.Architecture);
        return RegistryResult.Ok($"Imported {finalName}: {manifest.Architecture}, {manifest.Head} head{(manifest.Label is null ? "" : $", \"{manifest.Label}\"")}. Activate it to screen with it.");
    }

    /// <summary>
    /// Imports a torchvision ImageNet checkpoint (e.g. <c>densenet121-a639ec97.pth</c>) as a starting point for
    /// training. It is loaded into the architecture with the foundation's loader first; what the loader says is the
    /// result's details, and a file that does not load is not kept.
    /// </summary>
    public async Task<RegistryResult> ImportBaseCheckpointAsync(string architecture, string fileName, Stream content,
        CancellationToken token = default)
    {
        architecture = architecture.Trim().ToLowerInvariant();
        if (!BaseArchitectures.Contains(architecture))
            return RegistryResult.Fail($"'{architecture}' takes no imported base: choose one of {string.Join(", ", BaseArchitectures)} (ResNet18's ImageNet weights ship with DrWeb).");
        if (!SafeFileName().IsMatch(fileName))
            return RegistryResult.Fail($"'{fileName}' is not a plain file name.");
        string extension = Path.GetExtension(fileName).ToLowerInvariant();
        if (extension is not (".pth" or ".pt" or ".safetensors"))
            return RegistryResult.Fail($"'{fileName}' is not a checkpoint: upload a torchvision .pth file or a .safetensors file.");

        string staging = Path.Combine(CheckpointsFolder, ".incoming-" + Guid.NewGuid().ToString("N") + extension);
        try
        {
            string sha;
            long size;
            await using (var target = File.Create(staging))
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                byte[] buffer = new byte[1 << 20];
                int read;
                while ((read = await content.ReadAsync(buffer, token)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await target.WriteAsync(buffer.AsMemory(0, read), token);
                }
                size = target.Length;
                sha = Convert.ToHexStringLower(hash.GetHashAndReset());
            }

            await using var db = await dbFactory.CreateDbContextAsync(token);
            if (await db.BaseCheckpoints.FirstOrDefaultAsync(b => b.Sha256 == sha && b.Architecture == architecture, token) is { } existing)
                return RegistryResult.Ok($"{fileName} was already imported as the {existing.Architecture} base '{existing.OriginalName}'.");

            CheckpointImportReport report;
            try
            {
                report = await Task.Run(() =>
                {
                    using var model = ModelFactory.Create(architecture);
                    return CheckpointImporter.Load(model, staging, skipMismatchedClassifier: true);
                }, token);
            }
            catch (CheckpointMismatchException e)
            {
                return RegistryResult.Fail($"{fileName} is not a {architecture} checkpoint: {CleanMessage(e.Message, staging, fileName)}", MismatchDetails(e));
            }
            catch (CheckpointException e)
            {
                return RegistryResult.Fail(CleanMessage(e.Message, staging, fileName));
            }

            var details = new List<string> { $"Loaded {report.LoadedKeys} tensors ({report.Format})." };
            if (report.RenamedLegacyKeys > 0)
                details.Add($"Renamed {report.RenamedLegacyKeys} legacy DenseNet keys (norm.1 → norm1 ...).");
            if (report.SkippedClassifierKeys.Count > 0)
                details.Add($"Left out the file's classifier ({string.Join(", ", report.SkippedClassifierKeys)}): training puts DrWeb's 5-grade head there.");
            if (report.MissingBatchCounters.Count > 0)
                details.Add($"{report.MissingBatchCounters.Count} BatchNorm batch counters were absent (older PyTorch file); they start at zero.");

            string location = Path.Combine("checkpoints", $"{architecture}-{sha[..8]}{extension}");
            File.Move(staging, Path.Combine(data.Root, location), overwrite: true);
            db.BaseCheckpoints.Add(new BaseCheckpoint
            {
                Architecture = architecture, OriginalName = fileName, Location = location, Sha256 = sha, SizeBytes = size,
                LoadedTensors = report.LoadedKeys, LoaderReport = string.Join(" ", details),
            });
            await db.SaveChangesAsync(token);
            logger.LogInformation("Base checkpoint {File} imported for {Architecture}", fileName, architecture);
            return RegistryResult.Ok($"{fileName} is ready as a {architecture} base for training.", details);
        }
        finally
        {
            if (File.Exists(staging)) File.Delete(staging);
        }
    }

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

    private static string CleanMessage(string message, string staging, string? shownAs = null) =>
        message.Replace(Path.GetFullPath(staging), shownAs ?? "the uploaded model").Replace(staging, shownAs ?? "the uploaded model");

    private static IReadOnlyList<string> MismatchDetails(CheckpointMismatchException e)
    {
        var details = new List<string>();
        if (e.Missing.Count > 0) details.Add($"Missing ({e.Missing.Count}): {string.Join(", ", e.Missing.Take(6))}{(e.Missing.Count > 6 ? " ..." : "")}");
        if (e.Unexpected.Count > 0) details.Add($"Unexpected ({e.Unexpected.Count}): {string.Join(", ", e.Unexpected.Take(6))}{(e.Unexpected.Count > 6 ? " ..." : "")}");
        if (e.WrongShape.Count > 0) details.Add($"Wrong shape ({e.WrongShape.Count}): {string.Join(", ", e.WrongShape.Take(6))}{(e.WrongShape.Count > 6 ? " ..." : "")}");
        return details;
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._ -]{0,200}$")]
    private static partial Regex SafeFileName();

    [GeneratedRegex(@"[^a-z0-9._-]+")]
    private static partial Regex NotSlug();

    /// <summary>How a model prepares photographs, as shown in the registry: input size, crop, colour recipe, normalisation.</summary>
    public static string Describe(Preprocessing prep) =>
        $"{prep.InputSize} px, {(prep.CropFundus ? "fundus crop" : "whole frame")}, recipe {prep.Recipe.ToString().ToLowerInvariant()}, {prep.Normalisation}";
}
