using DrWeb.Ml.Architectures;
using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Explain;
using DrWeb.Ml.Torch;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using TorchSharp;

namespace DrWeb.Server.Registry;

/// <summary>
/// The Hangfire job that runs one <see cref="ExplanationStudyRun"/>: it loads the model twice (the second copy with
/// its trained layers randomised for the sanity check), runs <see cref="ExplanationStudy"/> over the photographs,
/// records progress in the run's row, and writes the report into the data folder. It honours Hangfire's cancellation.
/// </summary>
public sealed class ExplanationStudyJob(IDbContextFactory<DrWebDbContext> dbFactory, ModelRegistry registry, ExplanationStudies studies,
    TorchStartup torch, ILogger<ExplanationStudyJob> logger)
{
    [Queue(JobQueues.Compute)]
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(Guid runId, CancellationToken cancellationToken) => Task.Run(() => Run(runId, cancellationToken), CancellationToken.None);

    private void Run(Guid runId, CancellationToken token)
    {
        using var db = dbFactory.CreateDbContext();
        var run = db.ExplanationStudies.FirstOrDefault(r => r.Id == runId);
        if (run is null || run.Status is not (ExplanationStudyStatus.Queued or ExplanationStudyStatus.Running)) return;
        var version = db.ModelVersions.FirstOrDefault(v => v.Id == run.ModelVersionId);
        run.Status = ExplanationStudyStatus.Running;
        run.StartedUtc = DateTimeOffset.UtcNow;
        run.Message = null;
        db.SaveChanges();
        try
        {
            if (version is null) throw new InvalidOperationException("the model version was deleted");
            if (!torch.IsReady) throw new InvalidOperationException($"the model engine is not running: {torch.Status}");
            var images = ExplanationStudy.ImagesIn(run.DatasetFolder);
            if (run.Limit is { } limit) images = images.Take(limit).ToList();
            run.Total = images.Count;
            db.SaveChanges();

            string folder = registry.Resolve(version);
            var (model, manifest) = ModelDirectory.Load(folder);
            using var _ = model;
            var randomised = ModelDirectory.Load(folder).Model;
            using var __ = randomised;
            SanityCheck.RandomiseTrainedLayers(randomised, seed: 0);
            model.to(TorchRuntime.Device);
            randomised.to(TorchRuntime.Device);
            var options = new ExplanationStudyOptions
            {
                Methods = run.Methods.Split(',', StringSplitOptions.RemoveEmptyEntries), Target = CamTarget.Parse(run.Target),
                Faithfulness = run.Faithfulness,
            };
            var lastSaved = DateTime.UtcNow;
            var result = ExplanationStudy.Run(model, randomised, manifest.Preprocessing, version.Name, run.DatasetName, images, options, (done, total) =>
            {
                run.Done = done;
                if (done == total || DateTime.UtcNow - lastSaved > TimeSpan.FromSeconds(2))
                {
                    db.SaveChanges();
                    lastSaved = DateTime.UtcNow;
                }
            }, token);
            ExplanationStudyReport.Write(studies.FolderOf(run), result);
            Finish(db, run, ExplanationStudyStatus.Succeeded, $"{images.Count} photographs, {result.Methods.Count} methods");
        }
        catch (OperationCanceledException)
        {
            db.Entry(run).Reload();
            Finish(db, run, ExplanationStudyStatus.Cancelled, run.Message ?? "cancelled");
        }
        catch (Exception e)
        {
            // Whatever went wrong, the row must not stay "running": the page shows the reason and the log the details.
            string reference = Guid.NewGuid().ToString("N")[..8];
            logger.LogError(e, "Explanation study {RunId} failed, reference {Reference}", runId, reference);
            Finish(db, run, ExplanationStudyStatus.Failed, $"{e.Message} (reference {reference})");
        }
    }

    private static void Finish(DrWebDbContext db, ExplanationStudyRun run, ExplanationStudyStatus status, string message)
    {
        run.Status = status;
        run.Message = message.Length > 4000 ? message[..4000] : message;
        run.FinishedUtc = DateTimeOffset.UtcNow;
        db.SaveChanges();
    }
}
