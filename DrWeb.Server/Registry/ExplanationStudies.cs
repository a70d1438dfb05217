using DrWeb.Ml.Data;
using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Explain;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Registry;

/// <summary>A folder an explanation study can run on: a registered dataset, or the configured lesion atlas.</summary>
public sealed record StudySource(string Name, string Folder, bool HasMasks);

/// <summary>
/// Explanation studies of registered models: starting one as a background job, following it, and reading its report.
/// A study runs on a registered training dataset or on the lesion atlas (<c>DrWeb:Teaching:LesionAtlasFolder</c>).
/// </summary>
public sealed class ExplanationStudies(IDbContextFactory<DrWebDbContext> dbFactory, DataFolder data, IBackgroundJobClient jobs,
    Microsoft.Extensions.Options.IOptions<DrWebOptions> options)
{
    public async Task<List<StudySource>> SourcesAsync(CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var sources = (await db.TrainingDatasets.OrderBy(d => d.Name).ToListAsync(token))
            .Select(d => new StudySource(d.Name, d.Folder, LesionAtlas.IsAtlas(d.Folder))).ToList();
        if (options.Value.Teaching.LesionAtlasFolder is { Length: > 0 } atlas && LesionAtlas.IsAtlas(atlas) && sources.All(s => s.Folder != atlas))
            sources.Insert(0, new StudySource("lesion atlas (" + Path.GetFileName(atlas.TrimEnd('/')) + ")", atlas, true));
        return sources;
    }

    public async Task<List<ExplanationStudyRun>> ListAsync(Guid modelVersionId, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        return (await db.ExplanationStudies.Where(r => r.ModelVersionId == modelVersionId).ToListAsync(token))
            .OrderByDescending(r => r.CreatedUtc).ToList();
    }

    /// <summary>Queues a study; refuses unknown methods, a folder that is not one of <see cref="SourcesAsync"/>, and a model that does not exist.</summary>
    public async Task<RegistryResult> StartAsync(Guid modelVersionId, string folder, IReadOnlyList<string> methods, string target, int? limit,
        bool faithfulness, string actor, CancellationToken token = default)
    {
        var source = (await SourcesAsync(token)).FirstOrDefault(s => s.Folder == folder);
        if (source is null)
            return RegistryResult.Fail("Choose a registered dataset or the lesion atlas: that folder is neither. Register it on the Training page first.");
        try
        {
            foreach (var m in methods) CamMethods.Parse(m);
            CamTarget.Parse(target);
        }
        catch (ArgumentException e)
        {
            return RegistryResult.Fail(e.Message);
        }
        if (limit is <= 0) return RegistryResult.Fail("The number of photographs must be at least 1, or empty for all.");
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var version = await db.ModelVersions.FindAsync([modelVersionId], token);
        if (version is null) return RegistryResult.Fail("That model version does not exist. Go back to the registry and choose one.");
        var run = new ExplanationStudyRun
        {
            ModelVersionId = modelVersionId, DatasetName = source.Name, DatasetFolder = source.Folder,
            Methods = string.Join(",", methods.Select(m => CamMethods.Parse(m).Name)), Target = CamTarget.Parse(target).Name, Limit = limit,
            Faithfulness = faithfulness, Status = ExplanationStudyStatus.Queued, RequestedBy = actor, OutputFolder = "",
        };
        run.OutputFolder = Path.Combine("studies", run.Id.ToString("N"));
        db.ExplanationStudies.Add(run);
        await db.SaveChangesAsync(token);
        run.HangfireJobId = jobs.Enqueue<ExplanationStudyJob>(JobQueues.Compute, j => j.RunAsync(run.Id, CancellationToken.None));
        await db.SaveChangesAsync(token);
        return RegistryResult.Ok($"Explanation study of {version.Name} on {source.Name} queued. It runs after any training in progress.");
    }

    /// <summary>Stops a queued or running study (Hangfire cancels the job's token).</summary>
    public async Task<RegistryResult> CancelAsync(Guid runId, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var run = await db.ExplanationStudies.FindAsync([runId], token);
        if (run is null || run.Status is not (ExplanationStudyStatus.Queued or ExplanationStudyStatus.Running))
            return RegistryResult.Fail("That study is not queued or running.");
        if (run.HangfireJobId is { } job) jobs.Delete(job);
        run.Status = ExplanationStudyStatus.Cancelled;
        run.Message = "cancelled by an administrator";
        run.FinishedUtc = DateTimeOffset.UtcNow;
        await db.SaveChangesAsync(token);
        return RegistryResult.Ok("Study cancelled.");
    }

    /// <summary>The report of the model's latest finished study, or null.</summary>
    public async Task<(ExplanationStudyRun Run, ExplanationStudyResult Result)?> LatestResultAsync(Guid modelVersionId, CancellationToken token = default)
    {
        foreach (var run in (await ListAsync(modelVersionId, token)).Where(r => r.Status == ExplanationStudyStatus.Succeeded))
            if (ExplanationStudyReport.Read(FolderOf(run)) is { } result)
                return (run, result);
        return null;
    }

    public string FolderOf(ExplanationStudyRun run) => Path.Combine(data.Root, run.OutputFolder);

    /// <summary>A figure of a study's report; null for a name that is not a plain PNG file in its figures folder.</summary>
    public async Task<string?> FigurePathAsync(Guid runId, string file, CancellationToken token = default)
    {
        if (file != Path.GetFileName(file) || !file.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) return null;
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var run = await db.ExplanationStudies.FindAsync([runId], token);
        if (run is null) return null;
        string path = Path.Combine(FolderOf(run), ExplanationStudyReport.FiguresFolder, file);
        return File.Exists(path) ? path : null;
    }
}
