using DrWeb.Ml.Torch;
using DrWeb.Ml.Training;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Training;

/// <summary>
/// A run's row through its life in a training process: started (or resumed), kept alive by a heartbeat, its progress
/// rows trimmed back to the last checkpoint, and finished. The heartbeat is how a restarted process tells a run that
/// died with its process from one another process is still training.
/// </summary>
public sealed class TrainingRunLedger(IDbContextFactory<DrWebDbContext> dbFactory, JobStorage storage, NodeIdentity node, ILogger<TrainingRunLedger> logger)
{
    /// <summary>A training process writes its run's heartbeat this often, whatever phase it is in.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(3);

    /// <summary>A heartbeat that has not moved for this long belongs to a process that died.</summary>
    public static readonly TimeSpan HeartbeatStale = TimeSpan.FromSeconds(10);

    /// <summary>Marks the run as running in this process (another attempt when it ran before) and starts its heartbeat.</summary>
    public IDisposable Start(DrWebDbContext db, TrainingRun run)
    {
        run.Status = TrainingRunStatus.Running;
        run.Attempts++;
        run.StartedUtc ??= DateTimeOffset.UtcNow;
        run.HeartbeatUtc = DateTimeOffset.UtcNow;
        run.Device = TorchRuntime.IsInitialized ? TorchRuntime.Device.type.ToString().ToLowerInvariant() : null;
        run.Node = node.Name;
        run.Phase = run.Attempts > 1 ? "restarting after an interruption" : "preparing";
        run.Error = null;
        db.SaveChanges();
        Guid runId = run.Id;
        return new Timer(_ => Beat(runId), null, HeartbeatInterval, HeartbeatInterval);
    }

    /// <summary>
    /// Trims the run's step and epoch rows to what <paramref name="checkpointPath"/> holds (all of them when there is
    /// no checkpoint yet) and returns the global step the recorder continues from.
    /// </summary>
    public int TrimToCheckpoint(DrWebDbContext db, TrainingRun run, string checkpointPath, int epochs)
    {
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
        run.Epochs = epochs;
        db.SaveChanges();
        return firstGlobalStep;
    }

    /// <summary>
    /// Whether another process is training this run: its heartbeat moves. After a crash the row still says Running
    /// with a recent heartbeat, so a fresh one is watched until it is stale before the run is taken over.
    /// </summary>
    public bool IsAlive(DrWebDbContext db, TrainingRun run, CancellationToken token)
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

    /// <summary>Whether an admin cancelled the run, on its page or by deleting its job in the Hangfire dashboard.</summary>
    public bool CancelledByAdmin(DrWebDbContext db, TrainingRun run)
    {
        db.ChangeTracker.Clear();
        if (db.TrainingRuns.Where(r => r.Id == run.Id).Select(r => r.CancelRequested).FirstOrDefault()) return true;
        if (run.HangfireJobId is null) return false;
        using var connection = storage.GetConnection();
        return connection.GetStateData(run.HangfireJobId)?.Name == DeletedState.StateName;
    }

    /// <summary>The server is shutting down: the run goes back to the queue and resumes from its last checkpoint.</summary>
    public static void Interrupted(DrWebDbContext db, TrainingRun run)
    {
        db.ChangeTracker.Clear();
        db.TrainingRuns.Where(r => r.Id == run.Id).ExecuteUpdate(s => s
            .SetProperty(r => r.Status, TrainingRunStatus.Queued)
            .SetProperty(r => r.Phase, "interrupted by a server shutdown; resumes from its last checkpoint when the server runs again"));
    }

    public static void Finish(DrWebDbContext db, TrainingRun run, TrainingRunStatus status, string phase, string? error = null, string? reference = null)
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

    private void Beat(Guid runId)
    {
        try
        {
            using var db = dbFactory.CreateDbContext();
            var now = DateTimeOffset.UtcNow;
            db.TrainingRuns.Where(r => r.Id == runId && r.Status == TrainingRunStatus.Running).ExecuteUpdate(s => s.SetProperty(r => r.HeartbeatUtc, now));
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or ObjectDisposedException)
        {
            logger.LogWarning(e, "Heartbeat of training run {RunId} not written", runId);
        }
    }
}
