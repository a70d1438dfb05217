using System.Security.Cryptography;
using System.Text.RegularExpressions;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Registry;

/// <summary>
/// Brings models into the registry: DrWeb model folders (from this server's disk or uploaded from a browser) and
/// torchvision ImageNet checkpoints to start training from. Everything is loaded before it is kept, so nothing is
/// registered that does not load, and what the loader says becomes the admin's message.
/// </summary>
public sealed partial class ModelImports(IDbContextFactory<DrWebDbContext> dbFactory, DataFolder data, ModelRegistry registry,
    ILogger<ModelImports> logger)
{
    /// <summary>Imports a DrWeb model folder on this server (model.json + its weights file).</summary>
    public async Task<RegistryResult> ImportModelFolderAsync(string source, string? name = null, CancellationToken token = default)
    {
        if (!Directory.Exists(source))
            return RegistryResult.Fail($"There is no folder {source}. Give the path of a DrWeb model folder (model.json + weights).");
        string staging = Path.Combine(registry.ModelsFolder, ".incoming-" + Guid.NewGuid().ToString("N"));
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
        string staging = Path.Combine(registry.ModelsFolder, ".incoming-" + Guid.NewGuid().ToString("N"));
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
        string finalName = registry.UniqueModelName(db, name ?? $"imported-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        string target = Path.Combine(registry.ModelsFolder, finalName);
        Directory.Move(staging, target);
        var row = ModelRegistry.FromManifest(finalName, Path.GetRelativePath(data.Root, target), ModelSource.Imported, manifest);
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
        if (!ModelRegistry.BaseArchitectures.Contains(architecture))
            return RegistryResult.Fail($"'{architecture}' takes no imported base: choose one of {string.Join(", ", ModelRegistry.BaseArchitectures)} (ResNet18's ImageNet weights ship with DrWeb).");
        if (!SafeFileName().IsMatch(fileName))
            return RegistryResult.Fail($"'{fileName}' is not a plain file name.");
        string extension = Path.GetExtension(fileName).ToLowerInvariant();
        if (extension is not (".pth" or ".pt" or ".safetensors"))
            return RegistryResult.Fail($"'{fileName}' is not a checkpoint: upload a torchvision .pth file or a .safetensors file.");

        string staging = Path.Combine(registry.CheckpointsFolder, ".incoming-" + Guid.NewGuid().ToString("N") + extension);
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
}
