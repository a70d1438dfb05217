using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Inference;
using DrWeb.Ml.Models;
using DrWeb.Ml.Torch;
using DrWeb.Ml.Training;
using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Registry;
using DrWeb.Server.Teaching;
using DrWeb.Server.Platform;

namespace DrWeb.Server.Training;

/// <summary>A reason a run cannot go on, in words for the page.</summary>
public sealed class TrainingFailure(string message) : Exception(message);

/// <summary>
/// The Hangfire job that trains one <see cref="TrainingRun"/>: it reads the dataset, builds the model on its base
/// weights, trains with a checkpoint after every epoch (so a restarted server resumes), then writes the model folder,
/// evaluates it on the run's validation split with Grad-CAM heatmaps for the gallery, and registers it. Progress is
/// written to the run's rows as it goes.
/// </summary>
public sealed class TrainingJob(
    IDbContextFactory<DrWebDbContext> dbFactory, DataFolder data, ModelRegistry registry, TorchStartup engine, ActiveModel active,
    ImageStore store, TrainingCancellation cancellations, TrainingRuns runs, JobStorage storage, ILogger<TrainingJob> logger,
    Microsoft.Extensions.Options.IOptions<DrWeb.Server.Platform.DrWebOptions> options)
{
    public const string Queue = "training";
    public const string SchedulingQueue = "scheduling";

    /// <summary>One training at a time in a process, whatever the worker count: two would only split the same cores.</summary>
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);

    /// <summary>A training process writes its run's heartbeat this often, whatever phase it is in.</summary>
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(3);

    /// <summary>A heartbeat that has not moved for this long belongs to a process that died.</summary>
    private static readonly TimeSpan HeartbeatStale = TimeSpan.FromSeconds(10);

    [Queue(Queue)]
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(Guid runId, CancellationToken cancellationToken)
    {
        await OneAtATime.WaitAsync(cancellationToken);
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
            Finish(db, run, TrainingRunStatus.Cancelled, "cancelled before it started");
            return;
        }
        if (run.Status == TrainingRunStatus.Running && IsAlive(db, run, hangfireToken))
        {
            logger.LogWarning("Training run {RunId} is being trained by another live process; this copy of the job stops", runId);
            return;
        }

        using var userCancel = cancellations.Register(runId);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(hangfireToken, userCancel.Token);
        var token = linked.Token;
        string runFolder = data.Sub(Path.Combine("runs", runId.ToString("N")));
        string staging = Path.Combine(registry.ModelsFolder, ".building-" + runId.ToString("N"));

        run.Status = TrainingRunStatus.Running;
        run.Attempts++;
        run.StartedUtc ??= DateTimeOffset.UtcNow;
        run.HeartbeatUtc = DateTimeOffset.UtcNow;
        run.Device = TorchRuntime.IsInitialized ? TorchRuntime.Device.type.ToString().ToLowerInvariant() : null;
        run.Phase = run.Attempts > 1 ? "restarting after an interruption" : "preparing";
        run.Error = null;
        db.SaveChanges();
        using var heartbeat = new Timer(_ => Beat(runId), null, HeartbeatInterval, HeartbeatInterval);
        try
        {
            Train(db, run, runFolder, staging, userCancel, token);
            Directory.Delete(runFolder, recursive: true);
        }
        catch (OperationCanceledException) when (userCancel.IsCancellationRequested || CancelledByAdmin(db, run))
        {
            Finish(db, run, TrainingRunStatus.Cancelled, "cancelled; no model was registered");
            TryDelete(staging);
            TryDelete(runFolder);
        }
        catch (OperationCanceledException) when (hangfireToken.IsCancellationRequested)
        {
            // The server is shutting down: Hangfire hands the job out again on the next start, and the run resumes
            // from its last checkpoint.
            db.ChangeTracker.Clear();
            db.TrainingRuns.Where(r => r.Id == run.Id).ExecuteUpdate(s => s
                .SetProperty(r => r.Status, TrainingRunStatus.Queued)
                .SetProperty(r => r.Phase, "interrupted by a server shutdown; resumes from its last checkpoint when the server runs again"));
            TryDelete(staging);
            throw;
        }
        catch (Exception e) when (Readable(e) is { } reason)
        {
            string reference = Guid.NewGuid().ToString("N")[..8];
            logger.LogError(e, "Training run {RunId} failed, reference {Reference}", runId, reference);
            Finish(db, run, TrainingRunStatus.Failed, "failed", $"{reason}", reference);
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
        if (!engine.IsReady)
            throw new TrainingFailure($"The model engine is not running: {engine.Status}");
        var settings = RunSettings.FromJson(run.SettingsJson);
        var datasetRow = run.Dataset ?? throw new TrainingFailure("The run's dataset was removed. Start a new run on a registered dataset.");
        if (!Directory.Exists(datasetRow.Folder))
            throw new TrainingFailure($"The dataset folder {datasetRow.Folder} no longer exists. Register the dataset again and start a new run.");
        var parts = new List<Dataset> { DatasetReader.Read(datasetRow.Folder, new DatasetReadOptions { SkipBadRows = settings.SkipBadRows }) };
        foreach (var extraId in settings.AdditionalDatasetIds.Where(id => id != settings.DatasetId).Distinct())
        {
            var extra = db.TrainingDatasets.Find(extraId)
                ?? throw new TrainingFailure("One of the run's datasets was removed. Start a new run on registered datasets.");
            if (!Directory.Exists(extra.Folder))
                throw new TrainingFailure($"The dataset folder {extra.Folder} no longer exists. Register the dataset again and start a new run.");
            parts.Add(DatasetReader.Read(extra.Folder, new DatasetReadOptions { SkipBadRows = settings.SkipBadRows }));
        }

        string? weights = null;
        if (settings.BaseCheckpointId is { } baseId)
        {
            var checkpoint = db.BaseCheckpoints.Find(baseId)
                ?? throw new TrainingFailure("The run's base checkpoint was removed from the registry. Import it again and start a new run.");
            weights = registry.Resolve(checkpoint);
            if (!File.Exists(weights))
                throw new TrainingFailure($"The base weights file {weights} is missing. Import {checkpoint.OriginalName} again on the Models page.");
        }

        var (model, bundledBase, description) = ModelFactory.CreateForFineTuning(settings.Architecture, settings.Head, weights);
        using var grader = new Grader(model, ModelFactory.PreprocessingFor(model, settings.CropFundus, settings.Recipe));
        logger.LogInformation("Training run {RunId}: {Architecture}, base {Base}, {Images} images, {Device}", run.Id,
            settings.Architecture, description, parts.Sum(p => p.Images.Count), TorchRuntime.IsInitialized ? TorchRuntime.Describe() : "cpu");

        string checkpointPath = Path.Combine(runFolder, "checkpoint.bin");
        int firstGlobalStep = 0;
        if (File.Exists(checkpointPath))
        {
            int done = Checkpoint.ReadHeader(checkpointPath).EpochsCompleted;
            run.ResumedAfterEpoch = done;
            db.TrainingSteps.Where(s => s.RunId == run.Id && s.Epoch > done).ExecuteDelete();
            db.TrainingEpochs.Where(s => s.RunId == run.Id && s.Epoch > done).ExecuteDelete();
            firstGlobalStep = db.TrainingSteps.Where(s => s.RunId == run.Id).Max(s => (int?)s.GlobalStep) ?? 0;
        }
        else
        {
            db.TrainingSteps.Where(s => s.RunId == run.Id).ExecuteDelete();
            db.TrainingEpochs.Where(s => s.RunId == run.Id).ExecuteDelete();
        }
        run.Epochs = settings.Options.Epochs;
        db.SaveChanges();

        var recorder = new TrainingProgressRecorder(dbFactory, run.Id, settings.Options.Epochs, firstGlobalStep, userCancel);
        var trainer = new Trainer(model, grader.Preprocessing, settings.Options,
            new ViewCacheSettings(data.Sub("view-cache"), options.Value.Training.ViewCacheMaxBytes));
        recorder.Phase("grouping near-duplicate photographs");
        var union = DatasetUnion.Combine(parts, token: token);
        var result = trainer.Run(union.Images, checkpointPath, resume: true, recorder, token);
        recorder.Flush();

        recorder.Phase("writing the model");
        var manifest = TrainedModelManifest.For(model, grader.Preprocessing, settings.Options, union, result, bundledBase,
            settings.Label ?? $"trained by run {run.Name}");
        var validationImages = result.BestValidationImages;
        var validationReport = result.BestValidation;
        if (validationImages.Any(i => i.TrueGrade >= DrGrade.ReferableFrom) && validationImages.Any(i => i.TrueGrade < DrGrade.ReferableFrom))
        {
            recorder.Phase("calibrating: temperature and the referral threshold");
            manifest = ModelCalibrator.Calibrate(manifest, validationImages, OperatingTarget.Sensitivity, OperatingPoint.DefaultSensitivity,
                $"training run {run.Name}");
            grader.Referral = ReferralPolicy.From(manifest);
            validationImages = validationImages.Select(i => TemperatureScaling.Apply(i, grader.Referral.Temperature)).ToList();
            validationReport = EvaluationReport.From(validationImages, threshold: manifest.OperatingPoint!.Threshold);
        }
        TryDelete(staging);
        ModelDirectory.Save(staging, model, manifest, trainedOnly: bundledBase is not null);
        ModelEvaluator.Write(Path.Combine(staging, "validation"), result.BestValidation, result.BestValidationImages);

        model.SetTrainingMode(false);
        var cases = ValidationGallery.Build(grader, union.Images, validationImages, store, options.Value.Images,
            (done, total) => { if (done % 10 == 0 || done == total) recorder.Phase($"heatmaps for the gallery: {done}/{total}"); }, token);

        // The active model on the same images, so that "activate if better" compares like with like.
        ModelEvaluation? incumbent = null;
        Guid? incumbentId = db.ModelVersions.Where(v => v.IsActive).Select(v => (Guid?)v.Id).FirstOrDefault();
        if (incumbentId is { } activeId)
        {
            using var lease = active.Acquire();
            if (lease is not null)
            {
                recorder.Phase("measuring the active model on the same validation images");
                var ids = validationImages.Select(i => i.Image).ToHashSet();
                var images = union.Images.Where(i => ids.Contains(i.Id)).ToList();
                var theirs = lease.Grader.Referral;
                var measured = ModelEvaluator.Predict(lease.Grader.Model, lease.Grader.Preprocessing, images, token: token, temperature: theirs.Temperature);
                double? threshold = theirs.OperatingPoint?.Threshold;
                incumbent = ValidationGallery.Evaluation(activeId, run.Id, $"validation split of run {run.Name}", measured,
                    EvaluationReport.From(measured, threshold: threshold), threshold);
            }
        }
        token.ThrowIfCancellationRequested();

        // Registration is the last step and one transaction: a cancelled or failed run never leaves a model behind.
        string name = registry.UniqueModelName(run.Name);
        string folder = Path.Combine(registry.ModelsFolder, name);
        Directory.Move(staging, folder);
        var version = ModelRegistry.FromManifest(name, Path.GetRelativePath(data.Root, folder), ModelSource.Trained, manifest);
        version.TrainingRunId = run.Id;
        db.ModelVersions.Add(version);
        var evaluation = ValidationGallery.Evaluation(version.Id, run.Id, $"validation split of run {run.Name}", validationImages, validationReport,
            manifest.OperatingPoint?.Threshold);
        evaluation.Cases = cases;
        db.ModelEvaluations.Add(evaluation);
        if (incumbent is not null) db.ModelEvaluations.Add(incumbent);
        run.ModelVersionId = version.Id;
        run.BestEpoch = result.BestEpoch;
        run.BestKappa = result.BestValidation.QuadraticWeightedKappa;
        run.BestReferableAuc = double.IsFinite(result.BestValidation.Referable.RocAuc) ? result.BestValidation.Referable.RocAuc : null;
        run.TrainingSeconds += result.Duration.TotalSeconds;
        run.Device = result.Device;
        run.Status = TrainingRunStatus.Succeeded;
        run.Phase = $"done: model {name} registered";
        run.FinishedUtc = DateTimeOffset.UtcNow;
        run.EtaSeconds = 0;
        db.SaveChanges();
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

    private void Beat(Guid runId)
    {
        try
        {
            using var db = dbFactory.CreateDbContext();
            var now = DateTimeOffset.UtcNow;
            db.TrainingRuns.Where(r => r.Id == runId && r.Status == TrainingRunStatus.Running).ExecuteUpdate(s => s.SetProperty(r => r.HeartbeatUtc, now));
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or InvalidOperationException or ObjectDisposedException)
        {
            logger.LogWarning(e, "Heartbeat of training run {RunId} not written", runId);
        }
    }

    /// <summary>
    /// Whether another process is training this run: its heartbeat moves. After a crash the row still says Running
    /// with a recent heartbeat, so a fresh one is watched until it is stale before the run is taken over.
    /// </summary>
    private bool IsAlive(DrWebDbContext db, TrainingRun run, CancellationToken token)
    {
        var seen = run.HeartbeatUtc;
        while (seen is { } beat && DateTimeOffset.UtcNow - beat < HeartbeatStale)
        {
            token.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
            token.ThrowIfCancellationRequested();
            var now = db.TrainingRuns.AsNoTracking().Where(r => r.Id == run.Id).Select(r => r.HeartbeatUtc).FirstOrDefault();
            if (now != seen) return true;
        }
        return false;
    }

    private bool CancelledByAdmin(DrWebDbContext db, TrainingRun run)
    {
        db.ChangeTracker.Clear();
        if (db.TrainingRuns.Where(r => r.Id == run.Id).Select(r => r.CancelRequested).FirstOrDefault()) return true;
        if (run.HangfireJobId is null) return false;
        using var connection = storage.GetConnection();
        return connection.GetStateData(run.HangfireJobId)?.Name == DeletedState.StateName;
    }

    private static void Finish(DrWebDbContext db, TrainingRun run, TrainingRunStatus status, string phase, string? error = null, string? reference = null)
    {
        db.ChangeTracker.Clear();
        var now = DateTimeOffset.UtcNow;
        db.TrainingRuns.Where(r => r.Id == run.Id).ExecuteUpdate(s => s
            .SetProperty(r => r.Status, status)
            .SetProperty(r => r.Phase, phase)
            .SetProperty(r => r.Error, error)
            .SetProperty(r => r.ErrorReference, reference)
            .SetProperty(r => r.EtaSeconds, (double?)null)
            .SetProperty(r => r.FinishedUtc, now));
    }

    /// <summary>A sentence for the page for failures that are about the run's inputs or the machine, or null.</summary>
    private static string? Readable(Exception e) => e switch
    {
        TrainingFailure f => f.Message,
        DatasetException d => $"The dataset has problems (choose \"leave out rows with problems\" to train without them): {d.Report.Summary()}",
        CheckpointException c => c.Message,
        ImageRejectedException i => $"An image in the dataset could not be read: {i.Message}. Fix or remove it and start a new run.",
        ArgumentException a => a.Message,
        OutOfMemoryException => "The server ran out of memory. Use a smaller batch size or a smaller model.",
        System.Runtime.InteropServices.ExternalException x when x.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) =>
            "The GPU or CPU ran out of memory. Use a smaller batch size.",
        IOException io => $"A file could not be read or written: {io.Message}",
        InvalidDataException bad => $"A file is damaged: {bad.Message}",
        _ => $"Unexpected error ({e.GetType().Name}). The server log has the details.",
    };

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
