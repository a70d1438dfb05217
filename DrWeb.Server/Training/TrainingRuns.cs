using DrWeb.Server.Platform.Database;
using DrWeb.Server.Registry;
using Hangfire;
using Hangfire.Storage;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Training;

/// <summary>When a new run should start.</summary>
public abstract record RunTiming
{
    public sealed record Now : RunTiming;
    public sealed record At(DateTimeOffset When) : RunTiming;
}

/// <summary>A request's outcome: the run that was queued, or every reason it was not.</summary>
public sealed record RunRequestOutcome(TrainingRun? Run, IReadOnlyList<string> Problems)
{
    public bool Succeeded => Run is not null;
}

/// <summary>A recurring training as the page lists it.</summary>
public sealed record ScheduleSummary(TrainingSchedule Schedule, RunSettings Settings, DateTime? NextRunUtc, DateTime? LastRunUtc, string? LastError);

/// <summary>
/// Training runs as the admin pages see them: request (now, later or on a cron schedule), cancel, list, compare, and
/// activate the result. The training itself is <see cref="TrainingJob"/>, on Hangfire's <c>training</c> queue.
/// </summary>
public sealed class TrainingRuns(
    IDbContextFactory<DrWebDbContext> dbFactory, IBackgroundJobClient jobs, IRecurringJobManager recurring, JobStorage storage,
    TrainingCancellation cancellations, ModelRegistry registry, ILogger<TrainingRuns> logger)
{
    public async Task<RunRequestOutcome> StartAsync(RunSettings settings, string? name, RunTiming timing, string? requestedBy,
        Guid? scheduleId = null, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var problems = await ProblemsAsync(db, settings, token);
        if (timing is RunTiming.At at && at.When < DateTimeOffset.UtcNow.AddSeconds(-60))
            problems.Add("The chosen start time is in the past.");
        if (name is { Length: > 100 }) problems.Add("The run name must be at most 100 characters.");
        if (problems.Count > 0) return new(null, problems);

        var run = new TrainingRun
        {
            Name = string.IsNullOrWhiteSpace(name) ? $"{settings.Architecture}-{DateTime.UtcNow:yyyyMMdd-HHmmss}" : name.Trim(),
            DatasetId = settings.DatasetId, Architecture = settings.Architecture, BaseCheckpointId = settings.BaseCheckpointId,
            SettingsJson = settings.ToJson(), Epochs = settings.Options.Epochs, RequestedBy = requestedBy, ScheduleId = scheduleId,
            ScheduledForUtc = (timing as RunTiming.At)?.When.ToUniversalTime(),
            Phase = timing is RunTiming.At when ? $"scheduled for {when.When.ToUniversalTime():yyyy-MM-dd HH:mm} UTC" : "queued",
        };
        db.TrainingRuns.Add(run);
        await db.SaveChangesAsync(token);
        run.HangfireJobId = timing is RunTiming.At later
            ? jobs.Schedule<TrainingJob>(TrainingJob.Queue, j => j.RunAsync(run.Id, CancellationToken.None), later.When)
            : jobs.Enqueue<TrainingJob>(TrainingJob.Queue, j => j.RunAsync(run.Id, CancellationToken.None));
        await db.SaveChangesAsync(token);
        logger.LogInformation("Training run {RunId} ({Name}) requested by {User}", run.Id, run.Name, requestedBy ?? "schedule");
        return new(run, []);
    }

    /// <summary>Every reason these settings cannot be run now (the dataset and base weights must exist and match).</summary>
    private static async Task<List<string>> ProblemsAsync(DrWebDbContext db, RunSettings settings, CancellationToken token)
    {
        var problems = settings.Problems();
        if (settings.DatasetId != Guid.Empty)
        {
            foreach (var id in settings.AllDatasetIds)
            {
                var dataset = await db.TrainingDatasets.FindAsync([id], token);
                if (dataset is null) problems.Add($"The chosen dataset {id} is no longer registered.");
                else if (!Directory.Exists(dataset.Folder)) problems.Add($"The dataset folder {dataset.Folder} no longer exists; register it again.");
            }
        }
        if (settings.BaseCheckpointId is { } baseId)
        {
            var checkpoint = await db.BaseCheckpoints.FindAsync([baseId], token);
            if (checkpoint is null) problems.Add("The chosen base weights are no longer in the registry.");
            else if (checkpoint.Architecture != settings.Architecture)
                problems.Add($"The chosen base weights are for {checkpoint.Architecture}, not {settings.Architecture}.");
        }
        return problems;
    }

    /// <summary>
    /// Stops a run: a queued one never starts; a running one stops within one batch (at once in this process, through
    /// Hangfire's job deletion in another) and is marked Cancelled by its job.
    /// </summary>
    public async Task<string> CancelAsync(Guid runId, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var run = await db.TrainingRuns.FindAsync([runId], token);
        if (run is null) return "That run no longer exists.";
        if (run.Status is TrainingRunStatus.Succeeded or TrainingRunStatus.Failed or TrainingRunStatus.Cancelled)
            return $"The run has already ended ({run.Status}).";
        run.CancelRequested = true;
        bool running = run.Status == TrainingRunStatus.Running;
        if (!running)
        {
            run.Status = TrainingRunStatus.Cancelled;
            run.Phase = "cancelled before it started";
            run.FinishedUtc = DateTimeOffset.UtcNow;
        }
        await db.SaveChangesAsync(token);
        bool local = cancellations.Cancel(runId);
        if (run.HangfireJobId is not null && !local) jobs.Delete(run.HangfireJobId);
        return running ? "Cancelling: the run stops after the current batch." : "The run was cancelled before it started.";
    }

    public async Task<List<TrainingRun>> ListAsync(CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        return await db.TrainingRuns.AsNoTracking().Include(r => r.Dataset).OrderByDescending(r => r.CreatedUtc).Take(200).ToListAsync(token);
    }

    /// <summary>A run with its step losses and epoch figures, as stored.</summary>
    public async Task<TrainingRun?> GetAsync(Guid runId, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        return await db.TrainingRuns.AsNoTracking().AsSplitQuery().Include(r => r.Dataset)
            .Include(r => r.Steps.OrderBy(s => s.GlobalStep)).Include(r => r.EpochMetrics.OrderBy(e => e.Epoch))
            .FirstOrDefaultAsync(r => r.Id == runId, token);
    }

    public async Task<List<TrainingRun>> GetManyAsync(IReadOnlyCollection<Guid> runIds, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        return await db.TrainingRuns.AsNoTracking().AsSplitQuery().Include(r => r.Dataset).Include(r => r.EpochMetrics.OrderBy(e => e.Epoch))
            .Where(r => runIds.Contains(r.Id)).OrderBy(r => r.CreatedUtc).ToListAsync(token);
    }

    /// <summary>The evaluations measured on a run's validation split: its own model's and the then-active model's.</summary>
    public async Task<List<ModelEvaluation>> EvaluationsAsync(Guid runId, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        return await db.ModelEvaluations.AsNoTracking().Include(e => e.ModelVersion).Where(e => e.RunId == runId).ToListAsync(token);
    }

    /// <summary>
    /// Activates the run's model only if its referable AUC (then kappa) on the run's validation split beats the active
    /// model's on the same images.
    /// </summary>
    public async Task<RegistryResult> ActivateIfBetterAsync(Guid runId, string actor, CancellationToken token = default)
    {
        var run = await GetAsync(runId, token);
        if (run?.ModelVersionId is not { } candidateId)
            return RegistryResult.Fail("This run has no model (yet).");
        var evaluations = await EvaluationsAsync(runId, token);
        var versions = await registry.ListAsync(token);
        var activeVersion = versions.FirstOrDefault(v => v.IsActive);
        if (activeVersion is null)
            return await registry.ActivateAsync(candidateId, actor, token);
        if (activeVersion.Id == candidateId)
            return RegistryResult.Ok("This run's model is already active.");
        var mine = evaluations.FirstOrDefault(e => e.ModelVersionId == candidateId);
        var theirs = evaluations.FirstOrDefault(e => e.ModelVersionId == activeVersion.Id);
        if (mine is null || theirs is null || mine.DataFingerprint != theirs.DataFingerprint)
            return RegistryResult.Fail($"The active model ({activeVersion.Name}) was not measured on this run's validation images " +
                                       "(it became active after the run). Compare on the Models page and activate by hand.");
        int better = Compare(mine, theirs);
        string figures = $"referable AUC {Show(mine.ReferableAuc)} vs {Show(theirs.ReferableAuc)}, kappa {mine.Kappa:0.000} vs {theirs.Kappa:0.000} on the same {mine.Images} images";
        if (better <= 0)
            return RegistryResult.Fail($"Not activated: {activeVersion.Name} is at least as good ({figures}).");
        var activated = await registry.ActivateAsync(candidateId, actor, token);
        return activated.Succeeded ? RegistryResult.Ok($"Activated: better than {activeVersion.Name} ({figures}).") : activated;
    }

    private static int Compare(ModelEvaluation a, ModelEvaluation b)
    {
        int byAuc = (a.ReferableAuc ?? double.MinValue).CompareTo(b.ReferableAuc ?? double.MinValue);
        return byAuc != 0 ? byAuc : a.Kappa.CompareTo(b.Kappa);
    }

    private static string Show(double? v) => v is { } x ? x.ToString("0.000") : "n/a";

    // ---- Recurring runs -------------------------------------------------------------------------------------------

    public async Task<(TrainingSchedule? Schedule, IReadOnlyList<string> Problems)> AddScheduleAsync(string name, string cron,
        RunSettings settings, string? createdBy, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var problems = await ProblemsAsync(db, settings, token);
        if (string.IsNullOrWhiteSpace(name)) problems.Add("Give the schedule a name.");
        if (problems.Count > 0) return (null, problems);
        var schedule = new TrainingSchedule { Name = name.Trim(), Cron = cron.Trim(), SettingsJson = settings.ToJson(), CreatedBy = createdBy };
        if (Register(schedule) is { } cronProblem) return (null, [cronProblem]);
        db.TrainingSchedules.Add(schedule);
        await db.SaveChangesAsync(token);
        return (schedule, []);
    }

    public async Task<IReadOnlyList<string>> UpdateScheduleAsync(Guid id, string name, string cron, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var schedule = await db.TrainingSchedules.FindAsync([id], token);
        if (schedule is null) return ["That schedule no longer exists."];
        if (string.IsNullOrWhiteSpace(name)) return ["Give the schedule a name."];
        var edited = new TrainingSchedule { Id = schedule.Id, Name = name.Trim(), Cron = cron.Trim(), SettingsJson = schedule.SettingsJson };
        if (Register(edited) is { } problem) return [problem];
        schedule.Name = edited.Name;
        schedule.Cron = edited.Cron;
        await db.SaveChangesAsync(token);
        return [];
    }

    public async Task RemoveScheduleAsync(Guid id, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var schedule = await db.TrainingSchedules.FindAsync([id], token);
        if (schedule is null) return;
        recurring.RemoveIfExists(schedule.RecurringJobId);
        db.TrainingSchedules.Remove(schedule);
        await db.SaveChangesAsync(token);
    }

    public async Task<List<ScheduleSummary>> ListSchedulesAsync(CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var schedules = await db.TrainingSchedules.AsNoTracking().OrderBy(s => s.Name).ToListAsync(token);
        using var connection = storage.GetConnection();
        var jobsById = connection.GetRecurringJobs().ToDictionary(j => j.Id);
        return schedules.Select(s =>
        {
            jobsById.TryGetValue(s.RecurringJobId, out var job);
            return new ScheduleSummary(s, RunSettings.FromJson(s.SettingsJson), job?.NextExecution, job?.LastExecution, job?.Error);
        }).ToList();
    }

    /// <summary>Called by the recurring job: a new run with the schedule's settings, named after it and the date.</summary>
    public async Task<RunRequestOutcome> StartFromScheduleAsync(Guid scheduleId, CancellationToken token = default)
    {
        TrainingSchedule? schedule;
        await using (var db = await dbFactory.CreateDbContextAsync(token))
            schedule = await db.TrainingSchedules.FindAsync([scheduleId], token);
        if (schedule is null) return new(null, ["The schedule was removed."]);
        return await StartAsync(RunSettings.FromJson(schedule.SettingsJson), $"{schedule.Name} {DateTime.UtcNow:yyyy-MM-dd HH:mm}",
            new RunTiming.Now(), schedule.CreatedBy, schedule.Id, token);
    }

    /// <summary>Adds or updates the Hangfire recurring job; returns why the cron expression was refused, or null.</summary>
    private string? Register(TrainingSchedule schedule)
    {
        try
        {
            recurring.AddOrUpdate<TrainingJob>(schedule.RecurringJobId, TrainingJob.SchedulingQueue,
                j => j.StartScheduledAsync(schedule.Id), schedule.Cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
            return null;
        }
        catch (ArgumentException e)
        {
            return $"'{schedule.Cron}' is not a cron expression Hangfire understands ({e.Message.Split('\n')[0]}). " +
                   "Use five fields: minute hour day-of-month month day-of-week, e.g. \"0 2 * * 0\" for every Sunday at 02:00 UTC.";
        }
    }
}
