using DrWeb.Ml.Imaging;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Training;
using DrWeb.Tests.Support;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Training;

[Trait("Category", "RealDataTraining")]
/// <summary>Training through Hangfire, run on SQLite and on PostgreSQL alike.</summary>
public class TrainingJobTests(TrainingHosts hosts) : IClassFixture<TrainingHosts>
{
    private TrainingHost _host = null!;

    private void On(DatabaseProvider provider) => _host = hosts[provider];

    [Theory, SqliteData, PostgresData]
    public async Task A_tiny_real_run_through_hangfire_succeeds_registers_a_model_and_stores_gallery_cases(DatabaseProvider provider)
    {
        On(provider);
        var settings = _host.Tiny() with { CropFundus = true, Recipe = ColourRecipe.Clahe };
        var outcome = await _host.Runs.StartAsync(settings, "tiny-run", new RunTiming.Now(), "admin@drweb.test");
        Assert.True(outcome.Succeeded, string.Join(" ", outcome.Problems));

        var run = await _host.WaitForEndAsync(outcome.Run!.Id);

        Assert.True(run.Status == TrainingRunStatus.Succeeded, $"{run.Status}: {run.Error} {run.Phase}");
        Assert.Equal("cpu", run.Device);
        Assert.Equal(1, run.Attempts);
        Assert.NotEmpty(run.Steps);
        Assert.Equal(run.Steps.Select(s => s.GlobalStep), Enumerable.Range(1, run.Steps.Count));
        Assert.Single(run.EpochMetrics);
        Assert.True(run.FinishedUtc >= run.StartedUtc);

        var version = (await _host.Registry.ListAsync()).Single(v => v.Id == run.ModelVersionId);
        Assert.Equal(ModelSource.Trained, version.Source);
        Assert.Equal(_host.Dataset.Fingerprint, version.DataFingerprint);
        Assert.False(version.IsActive);
        Assert.True(DrWeb.Ml.Architectures.ModelDirectory.IsModelDirectory(_host.Registry.Resolve(version)));
        // The run's preparation is the model's: recorded in its manifest, shown in the registry.
        var prep = DrWeb.Ml.Architectures.ModelDirectory.ReadManifest(_host.Registry.Resolve(version)).Preprocessing;
        Assert.True(prep.CropFundus);
        Assert.Equal(ColourRecipe.Clahe, prep.Recipe);
        Assert.Contains("fundus crop, recipe clahe", version.Preprocessing);

        await using var db = await _host.DbAsync();
        var evaluation = await db.ModelEvaluations.Include(e => e.Cases).SingleAsync(e => e.ModelVersionId == version.Id);
        Assert.Equal(version.ValidationImages, evaluation.Cases.Count);
        Assert.Equal(evaluation.Cases.Count(c => c.Correct) / (double)evaluation.Cases.Count, evaluation.Accuracy, 9);
        foreach (var c in evaluation.Cases)
        {
            Assert.True(_host.Store.Contains(c.ImageHash) && _host.Store.Contains(c.HeatmapPredictedHash) && _host.Store.Contains(c.HeatmapTrueHash));
            Assert.Equal(c.Correct, c.HeatmapPredictedHash == c.HeatmapTrueHash);
            Assert.Equal(1f, c.Probabilities.Sum(), 3);
            Assert.Equal(Array.IndexOf(c.Probabilities, c.Probabilities.Max()), c.PredictedGrade);
            // Each gallery case keeps its quality verdict and the picture the model saw, with the heatmaps drawn on it.
            Assert.Contains(c.QualityVerdict, new[] { "Good", "Usable", "Ungradable" });
            Assert.True(c.HeatmapOnModelView);
            Assert.False(string.IsNullOrWhiteSpace(c.ModelViewNote));
            using var view = SixLabors.ImageSharp.Image.Load(_host.Store.Read(c.ModelViewHash!));
            using var heat = SixLabors.ImageSharp.Image.Load(_host.Store.Read(c.HeatmapPredictedHash));
            Assert.Equal((224, 224), (view.Width, view.Height));
            Assert.Equal((view.Width, view.Height), (heat.Width, heat.Height));
        }
        // fundus-dev images are 256 px crops: usable at best (low resolution), and a clinician graded each one.
        Assert.All(evaluation.Cases, c => Assert.NotEqual("Good", c.QualityVerdict));
        // The starter was active, so it was measured on the same images for "activate if better".
        var incumbent = await db.ModelEvaluations.SingleAsync(e => e.RunId == run.Id && e.ModelVersionId != version.Id);
        Assert.Equal(evaluation.DataFingerprint, incumbent.DataFingerprint);

        var decision = await _host.Runs.ActivateIfBetterAsync(run.Id, DrWebFactory.AdminEmail);
        bool better = (evaluation.ReferableAuc ?? double.MinValue) > (incumbent.ReferableAuc ?? double.MinValue)
                      || (evaluation.ReferableAuc == incumbent.ReferableAuc && evaluation.Kappa > incumbent.Kappa);
        Assert.Equal(better, decision.Succeeded);
        Assert.Equal(better, (await _host.Registry.ListAsync()).Single(v => v.Id == version.Id).IsActive);
        var starter = (await _host.Registry.ListAsync()).Single(v => v.Source == ModelSource.Starter);
        await _host.Registry.ActivateAsync(starter.Id, DrWebFactory.AdminEmail);
    }

    [Theory, SqliteData, PostgresData]
    public async Task Invalid_settings_are_refused_with_every_reason(DatabaseProvider provider)
    {
        On(provider);
        var bad = _host.Tiny() with { Architecture = "densenet121", Options = new TrainingOptions { Epochs = 0, LearningRate = -1, SamplerWeights = [1, 2] } };
        var outcome = await _host.Runs.StartAsync(bad, null, new RunTiming.Now(), null);
        Assert.False(outcome.Succeeded);
        string all = string.Join(" ", outcome.Problems);
        Assert.Contains("densenet121 needs ImageNet base weights", all);
        Assert.Contains("epochs must be at least 1", all, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("learning rate", all, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("sampler weights", all, StringComparison.OrdinalIgnoreCase);

        var past = await _host.Runs.StartAsync(_host.Tiny(), null, new RunTiming.At(DateTimeOffset.UtcNow.AddHours(-1)), null);
        Assert.Contains("in the past", string.Join(" ", past.Problems));
    }

    [Theory, SqliteData, PostgresData]
    public async Task Cancelling_a_running_job_stops_it_and_registers_nothing(DatabaseProvider provider)
    {
        On(provider);
        int versionsBefore = (await _host.Registry.ListAsync()).Count;
        var outcome = await _host.Runs.StartAsync(_host.Tiny(epochs: 20), "to-cancel", new RunTiming.Now(), null);
        var id = outcome.Run!.Id;
        await _host.WaitUntilAsync(id, r => r.Status == TrainingRunStatus.Running && r.Steps.Count > 0);

        string message = await _host.Runs.CancelAsync(id);
        var run = await _host.WaitForEndAsync(id, TimeSpan.FromSeconds(60));

        Assert.Contains("stops after the current batch", message);
        Assert.Equal(TrainingRunStatus.Cancelled, run.Status);
        Assert.Null(run.ModelVersionId);
        Assert.True(run.EpochMetrics.Count < 20);
        Assert.Equal(versionsBefore, (await _host.Registry.ListAsync()).Count);
        Assert.DoesNotContain(Directory.GetDirectories(_host.Registry.ModelsFolder), d => d.Contains(".building-"));
    }

    [Theory, SqliteData, PostgresData]
    public async Task A_run_whose_dataset_folder_was_deleted_fails_with_a_readable_reason(DatabaseProvider provider)
    {
        On(provider);
        using var copy = new TempFolder();
        foreach (string file in Directory.GetFiles(_host.Images.Folder, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(copy.Path, "doomed", Path.GetRelativePath(_host.Images.Folder, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        // Registered through the upload folder root: copy into it.
        string inside = Path.Combine(_host.Datasets.UploadFolder, "doomed");
        Directory.Move(Path.Combine(copy.Path, "doomed"), inside);
        var registered = await _host.Datasets.RegisterFolderAsync(inside, "doomed");
        Assert.True(registered.Succeeded, registered.Message);
        var settings = _host.Tiny() with { DatasetId = registered.Dataset!.Id };
        var scheduled = await _host.Runs.StartAsync(settings, "orphan", new RunTiming.At(DateTimeOffset.UtcNow.AddSeconds(3)), null);
        Assert.True(scheduled.Succeeded);
        Directory.Delete(inside, recursive: true);

        var run = await _host.WaitForEndAsync(scheduled.Run!.Id);

        Assert.Equal(TrainingRunStatus.Failed, run.Status);
        Assert.Contains("no longer exists", run.Error);
        Assert.NotNull(run.ErrorReference);
    }

    /// <summary>A copy of the tiny set inside the upload root, registered as its own dataset, changed by <paramref name="spoil"/>.</summary>
    private async Task<TrainingDataset> CopyAsync(string name, Action<string>? spoil = null)
    {
        string folder = Path.Combine(_host.Datasets.UploadFolder, $"{name}-{Guid.NewGuid():N}");
        foreach (string file in Directory.GetFiles(_host.Images.Folder, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(folder, Path.GetRelativePath(_host.Images.Folder, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        var registered = await _host.Datasets.RegisterFolderAsync(folder, name);
        Assert.True(registered.Succeeded, registered.Message);
        spoil?.Invoke(folder);
        return registered.Dataset!;
    }

    [Theory, SqliteData, PostgresData]
    public async Task A_truncated_photograph_fails_the_run_with_its_name_unless_the_admin_chose_to_leave_such_rows_out(DatabaseProvider provider)
    {
        On(provider);
        string victim = "";
        var dataset = await CopyAsync("truncated", folder =>
        {
            string path = Directory.GetFiles(Path.Combine(folder, "images")).Order(StringComparer.Ordinal).First();
            victim = Path.GetFileNameWithoutExtension(path);
            byte[] bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        });
        var strict = await _host.Runs.StartAsync(_host.Tiny() with { DatasetId = dataset.Id }, "truncated", new RunTiming.Now(), null);

        var failed = await _host.WaitForEndAsync(strict.Run!.Id);

        Assert.Equal(TrainingRunStatus.Failed, failed.Status);
        Assert.Contains(victim, failed.Error);
        Assert.Null(failed.ModelVersionId);

        var lenient = await _host.Runs.StartAsync(_host.Tiny() with { DatasetId = dataset.Id, SkipBadRows = true }, "truncated-skipped", new RunTiming.Now(), null);
        var done = await _host.WaitForEndAsync(lenient.Run!.Id);
        Assert.True(done.Status == TrainingRunStatus.Succeeded, done.Error);
        var version = (await _host.Registry.ListAsync()).Single(v => v.Id == done.ModelVersionId);
        Assert.Equal(dataset.Images - 1, version.TrainImages + version.ValidationImages);
    }

    [Theory, SqliteData, PostgresData]
    public async Task A_missing_base_weights_file_ends_the_run_as_failed_and_says_how_to_fix_it(DatabaseProvider provider)
    {
        On(provider);
        using var temp = new TempFolder();
        string path = temp.File("vgg-like.pth");
        // Import a real (PyTorch-written) DenseNet checkpoint, then lose its file.
        await using (var file = File.OpenRead(Path.Combine(SharedData.ReferenceDir, "ref_state.pth")))
            Assert.True((await _host.Imports.ImportBaseCheckpointAsync("densenet121", "ref_state.pth", file)).Succeeded);
        var checkpoint = (await _host.Registry.ListBasesAsync()).Single(b => b.Architecture == "densenet121");
        var settings = _host.Tiny() with { Architecture = "densenet121", BaseCheckpointId = checkpoint.Id };
        var outcome = await _host.Runs.StartAsync(settings, "lost-weights", new RunTiming.At(DateTimeOffset.UtcNow.AddSeconds(2)), null);
        Assert.True(outcome.Succeeded, string.Join(" ", outcome.Problems));
        File.Delete(_host.Registry.Resolve(checkpoint));

        var run = await _host.WaitForEndAsync(outcome.Run!.Id);

        Assert.Equal(TrainingRunStatus.Failed, run.Status);
        Assert.Contains("is missing. Import ref_state.pth again", run.Error);
    }

    [Theory, SqliteData, PostgresData]
    public async Task Two_runs_requested_together_queue_up_and_never_train_at_the_same_time(DatabaseProvider provider)
    {
        On(provider);
        var a = await _host.Runs.StartAsync(_host.Tiny(epochs: 2), "first", new RunTiming.Now(), null);
        var b = await _host.Runs.StartAsync(_host.Tiny(epochs: 2), "second", new RunTiming.Now(), null);
        bool overlapped = false;
        while (true)
        {
            var runs = await _host.Runs.GetManyAsync([a.Run!.Id, b.Run!.Id]);
            overlapped |= runs.All(r => r.Status == TrainingRunStatus.Running);
            if (runs.All(r => r.Status is TrainingRunStatus.Succeeded or TrainingRunStatus.Failed or TrainingRunStatus.Cancelled)) break;
            await Task.Delay(100);
        }
        var done = await _host.Runs.GetManyAsync([a.Run!.Id, b.Run!.Id]);
        Assert.False(overlapped);
        Assert.All(done, r => Assert.Equal(TrainingRunStatus.Succeeded, r.Status));
        // One after the other: the second started after the first finished.
        var (first, second) = done[0].StartedUtc < done[1].StartedUtc ? (done[0], done[1]) : (done[1], done[0]);
        Assert.True(second.StartedUtc >= first.FinishedUtc);

        // The comparison page puts them side by side with their best-epoch figures.
        using var admin = await _host.Factory.SignedInClientAsync();
        string html = await admin.GetStringAsync($"/training/compare?runs={first.Id},{second.Id}");
        Assert.Contains("first", html);
        Assert.Contains("second", html);
        Assert.Contains("Referable ROC AUC", html);
        Assert.Contains(RunFormatting.Metric(first.BestKappa), html);
    }

    [Theory, SqliteData, PostgresData]
    public async Task Deleting_the_job_in_the_dashboard_cancels_the_run(DatabaseProvider provider)
    {
        On(provider);
        var outcome = await _host.Runs.StartAsync(_host.Tiny(epochs: 20), "deleted-in-dashboard", new RunTiming.Now(), null);
        var id = outcome.Run!.Id;
        var running = await _host.WaitUntilAsync(id, r => r.Status == TrainingRunStatus.Running && r.Steps.Count > 0);

        // What the dashboard's Delete button does.
        _host.Factory.Services.GetRequiredService<Hangfire.IBackgroundJobClient>().Delete(running.HangfireJobId!);
        var run = await _host.WaitForEndAsync(id, TimeSpan.FromSeconds(60));

        Assert.Equal(TrainingRunStatus.Cancelled, run.Status);
        Assert.Null(run.ModelVersionId);
    }

    [Theory, SqliteData, PostgresData]
    public async Task Recurring_runs_are_listed_edited_triggered_and_removed(DatabaseProvider provider)
    {
        On(provider);
        var (schedule, problems) = await _host.Runs.AddScheduleAsync("weekly", "0 2 * * 0", _host.Tiny(), "admin@drweb.test");
        Assert.Empty(problems);
        var listed = (await _host.Runs.ListSchedulesAsync()).Single(s => s.Schedule.Id == schedule!.Id);
        Assert.Equal(DayOfWeek.Sunday, listed.NextRunUtc!.Value.DayOfWeek);
        Assert.Equal(2, listed.NextRunUtc.Value.Hour);

        var refused = await _host.Runs.UpdateScheduleAsync(schedule!.Id, "weekly", "every sunday");
        Assert.Contains("not a cron expression", Assert.Single(refused));
        Assert.Empty(await _host.Runs.UpdateScheduleAsync(schedule.Id, "nightly", "30 1 * * *"));
        listed = (await _host.Runs.ListSchedulesAsync()).Single(s => s.Schedule.Id == schedule.Id);
        Assert.Equal(("nightly", 1, 30), (listed.Schedule.Name, listed.NextRunUtc!.Value.Hour, listed.NextRunUtc.Value.Minute));

        // Firing the recurring job starts a real run with the schedule's settings.
        _host.Factory.Services.GetRequiredService<Hangfire.IRecurringJobManager>().Trigger(schedule.RecurringJobId);
        TrainingRun? spawned = null;
        for (int i = 0; i < 200 && spawned is null; i++)
        {
            spawned = (await _host.Runs.ListAsync()).FirstOrDefault(r => r.ScheduleId == schedule.Id);
            await Task.Delay(100);
        }
        Assert.NotNull(spawned);
        Assert.StartsWith("nightly ", spawned.Name);
        Assert.Equal(TrainingRunStatus.Succeeded, (await _host.WaitForEndAsync(spawned.Id)).Status);

        await _host.Runs.RemoveScheduleAsync(schedule.Id);
        Assert.DoesNotContain(await _host.Runs.ListSchedulesAsync(), s => s.Schedule.Id == schedule.Id);
        using var connection = _host.Factory.Services.GetRequiredService<Hangfire.JobStorage>().GetConnection();
        Assert.DoesNotContain(Hangfire.Storage.StorageConnectionExtensions.GetRecurringJobs(connection), j => j.Id == schedule.RecurringJobId);
    }
}
