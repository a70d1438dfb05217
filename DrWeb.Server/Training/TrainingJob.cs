using DrWeb.Ml.Data;
using DrWeb.Ml.Inference;
using DrWeb.Ml.Torch;
using DrWeb.Ml.Training;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Teaching;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Training;

/// <summary>
/// The Hangfire job that trains one <see cref="TrainingRun"/>. It only orchestrates: the run's row
/// (<see cref="TrainingRunLedger"/>), its inputs (<see cref="RunInputs"/>), training with a checkpoint after every
/// epoch so that a restarted server resumes, the model folder (<see cref="TrainedModelWriter"/>), the gallery's
/// heatmaps (<see cref="ValidationGallery"/>), the active model on the same images (<see cref="IncumbentMeasurement"/>),
/// and registration (<see cref="TrainedModelRegistration"/>). It honours the run's cancellation and Hangfire's.
/// </summary>
public sealed class TrainingJob(
    IDbContextFactory<DrWebDbContext> dbFactory, DataFolder data, TorchStartup torch, RunInputs inputs, TrainingRunLedger ledger,
    IncumbentMeasurement incumbents, TrainedModelRegistration registration, IImageStore store, TrainingCancellation cancellations,
    TrainingRuns runs, DrWebMetrics metrics, NodeIdentity node, IOptions<DrWebOptions> options, ILogger<TrainingJob> logger)
{
    public const string Queue = JobQueues.Compute;
    public const string SchedulingQueue = JobQueues.Scheduling;

    /// <summary>One training at a time in a process, whatever the worker count: two would only split the same cores.</summary>
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);

    [Queue(Queue)]
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(Guid runId, CancellationToken cancellationToken)
    {
        await OneAtATime.WaitAsync(cancellationToken);
        // Every line this run logs carries the node and the run, whichever node picked it up.
        using var scope = logger.BeginScope("Node:{Node} RunId:{RunId}", node.Name, runId);
        try
        {
            await Task.Run(() => Run(runId, cancellationToken), CancellationToken.None);
        }
        finally
        {
            OneAtATime.Release();
        }
    }

    private void Run(Guid runId, CancellationToken hangfireToken)
    {
        using var db = dbFactory.CreateDbContext();
        var run = db.TrainingRuns.Include(r => r.Dataset).FirstOrDefault(r => r.Id == runId);
        if (run is null)
        {
            logger.LogWarning("Training run {RunId} no longer exists; nothing to do", runId);
            return;
        }
        if (run.Status is TrainingRunStatus.Succeeded or TrainingRunStatus.Failed or TrainingRunStatus.Cancelled)
            return;
        if (run.CancelRequested)
        {
            TrainingRunLedger.Finish(db, run, TrainingRunStatus.Cancelled, "cancelled before it started");
            return;
        }
        if (run.Status == TrainingRunStatus.Running && ledger.IsAlive(db, run, hangfireToken))
        {
            logger.LogWarning("Training run {RunId} is being trained by another live process; this copy of the job stops", runId);
            return;
        }

        using var userCancel = cancellations.Register(runId);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(hangfireToken, userCancel.Token);
        string runFolder = data.Sub(Path.Combine("runs", runId.ToString("N")));
        string staging = registration.StagingFolder(runId);
        using var heartbeat = ledger.Start(db, run);
        try
        {
            Train(db, run, runFolder, staging, userCancel, linked.Token);
            Directory.Delete(runFolder, recursive: true);
        }
        catch (OperationCanceledException) when (userCancel.IsCancellationRequested || ledger.CancelledByAdmin(db, run))
        {
            TrainingRunLedger.Finish(db, run, TrainingRunStatus.Cancelled, "cancelled; no model was registered");
            TryDelete(staging);
            TryDelete(runFolder);
        }
        catch (OperationCanceledException) when (hangfireToken.IsCancellationRequested)
        {
            // Hangfire hands the job out again on the next start, and the run resumes from its last checkpoint.
            TrainingRunLedger.Interrupted(db, run);
            TryDelete(staging);
            throw;
        }
        catch (Exception e) when (TrainingFailure.Readable(e) is { } reason)
        {
            string reference = Guid.NewGuid().ToString("N")[..8];
            logger.LogError(e, "Training run {RunId} failed, reference {Reference}", runId, reference);
            TrainingRunLedger.Finish(db, run, TrainingRunStatus.Failed, "failed", reason, reference);
            TryDelete(staging);
        }
        finally
        {
            cancellations.Unregister(runId);
        }
    }

    private void Train(DrWebDbContext db, TrainingRun run, string runFolder, string staging, CancellationTokenSource userCancel,
        CancellationToken token)
    {
        if (!torch.IsReady)
            throw new TrainingFailure($"The model engine is not running: {torch.Status}");
        var settings = RunSettings.FromJson(run.SettingsJson);
        var prepared = inputs.Prepare(db, run, settings);
        using var grader = new Grader(prepared.Model, prepared.Preprocessing);
        logger.LogInformation("Training run {RunId}: {Architecture}, base {Base}, {Images} images, {Device}", run.Id,
            settings.Architecture, prepared.BaseDescription, prepared.Datasets.Sum(p => p.Images.Count),
            TorchRuntime.IsInitialized ? TorchRuntime.Describe() : "cpu");

        string checkpointPath = Path.Combine(runFolder, "checkpoint.bin");
        int firstGlobalStep = ledger.TrimToCheckpoint(db, run, checkpointPath, settings.Options.Epochs);
        var recorder = new TrainingProgressRecorder(dbFactory, run.Id, settings.Options.Epochs, firstGlobalStep, userCancel, metrics);
        var trainer = new Trainer(prepared.Model, prepared.Preprocessing, settings.Options,
            new ViewCacheSettings(data.Sub("view-cache"), options.Value.Training.ViewCacheMaxBytes));
        recorder.Phase("grouping near-duplicate photographs");
        var union = DatasetUnion.Combine(prepared.Datasets, token: token);
        var result = trainer.Run(union.Images, checkpointPath, resume: true, recorder, token);
        recorder.Flush();

        recorder.Phase("writing the model and calibrating its referral threshold");
        var written = TrainedModelWriter.Write(staging, prepared.Model, prepared.Preprocessing, settings.Options, union, result,
            prepared.BundledBase, settings.Label ?? $"trained by run {run.Name}", $"training run {run.Name}");
        grader.Referral = written.Referral;

        prepared.Model.SetTrainingMode(false);
        var cases = ValidationGallery.Build(grader, union.Images, written.ValidationImages, store, options.Value.Images,
            (done, total) => { if (done % 10 == 0 || done == total) recorder.Phase($"heatmaps for the gallery: {done}/{total}"); }, token);

        recorder.Phase("measuring the active model on the same validation images");
        var incumbent = incumbents.Measure(db, run, union.Images, written.ValidationImages, token);
        token.ThrowIfCancellationRequested();

        var evaluation = ValidationGallery.Evaluation(Guid.Empty, run.Id, $"validation split of run {run.Name}", written.ValidationImages,
            written.ValidationReport, written.Manifest.OperatingPoint?.Threshold);
        evaluation.Cases = cases;
        string name = registration.Register(db, run, written, result, evaluation, incumbent);
        logger.LogInformation("Training run {RunId} succeeded: model {Name}, kappa {Kappa:0.000}", run.Id, name, run.BestKappa);
    }

    /// <summary>The recurring-job entry point: starts a run with the schedule's settings on the latest state of its dataset.</summary>
    [Queue(SchedulingQueue)]
    [AutomaticRetry(Attempts = 0)]
    public async Task StartScheduledAsync(Guid scheduleId)
    {
        var outcome = await runs.StartFromScheduleAsync(scheduleId);
        if (outcome.Problems.Count > 0)
            logger.LogWarning("Scheduled training {ScheduleId} was not started: {Problems}", scheduleId, string.Join(" ", outcome.Problems));
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
