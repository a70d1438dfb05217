using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using DrWeb.Ml.Manifest;
using DrWeb.Ml.Training;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Training;
using DrWeb.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Training;

/// <summary>The services the training job orchestrates, each on its own: inputs, the run's ledger, the incumbent, failures in words.</summary>
public class TrainingJobStepsTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    private DrWebDbContext Db() => factory.Services.GetRequiredService<IDbContextFactory<DrWebDbContext>>().CreateDbContext();

    private static TrainingRun Run(TrainingDataset? dataset) => new()
    {
        Name = "steps-" + Guid.NewGuid().ToString("N")[..6], Architecture = "resnet18", SettingsJson = "{}",
        Dataset = dataset, DatasetId = dataset?.Id ?? Guid.Empty,
    };

    private static TrainingDataset Dataset(string folder) => new()
    {
        Name = "gone-" + Guid.NewGuid().ToString("N")[..6], Folder = folder, Layout = "csv", GradeCounts = "[]", Fingerprint = "x", Report = "",
    };

    [Fact]
    public void Inputs_that_went_missing_since_the_run_was_queued_fail_with_what_to_do()
    {
        _ = factory.Server;
        var inputs = factory.Services.GetRequiredService<RunInputs>();
        using var db = Db();
        string missing = Path.Combine(factory.DataFolder, "datasets", "removed-" + Guid.NewGuid().ToString("N"));

        var noFolder = Assert.Throws<TrainingFailure>(() => inputs.Prepare(db, Run(Dataset(missing)), new RunSettings()));
        Assert.Contains($"The dataset folder {missing} no longer exists", noFolder.Message);
        Assert.Contains("Register the dataset again", noFolder.Message);

        var noDataset = Assert.Throws<TrainingFailure>(() => inputs.Prepare(db, Run(null), new RunSettings()));
        Assert.Contains("dataset was removed", noDataset.Message);

        var existing = Dataset(Path.GetDirectoryName(SharedData.FundusDevImages)!);
        var noBase = Assert.Throws<TrainingFailure>(() => inputs.Prepare(db, Run(existing),
            new RunSettings { BaseCheckpointId = Guid.NewGuid(), SkipBadRows = true }));
        Assert.Contains("base checkpoint was removed", noBase.Message);
    }

    [Fact]
    public async Task The_ledger_trims_progress_rows_to_the_checkpoint_and_starts_over_without_one()
    {
        _ = factory.Server;
        var ledger = factory.Services.GetRequiredService<TrainingRunLedger>();
        var dataset = Dataset(factory.DataFolder);
        var run = Run(dataset);
        await using (var db = Db())
        {
            db.TrainingDatasets.Add(dataset);
            db.TrainingRuns.Add(run);
            int global = 0;
            for (int epoch = 1; epoch <= 3; epoch++)
            {
                db.TrainingEpochs.Add(new TrainingEpochMetrics { RunId = run.Id, Epoch = epoch });
                for (int step = 1; step <= 4; step++)
                    db.TrainingSteps.Add(new TrainingStepLoss { RunId = run.Id, Epoch = epoch, Step = step, GlobalStep = ++global, Loss = 1 });
            }
            await db.SaveChangesAsync();
        }

        string checkpoint = Path.Combine(factory.DataFolder, $"checkpoint-{run.Id:N}.bin");
        WriteHeaderOnly(checkpoint, epochsCompleted: 2);
        await using (var db = Db())
        {
            var tracked = await db.TrainingRuns.SingleAsync(r => r.Id == run.Id);
            Assert.Equal(8, ledger.TrimToCheckpoint(db, tracked, checkpoint, epochs: 5));
            Assert.Equal(2, tracked.ResumedAfterEpoch);
        }
        await using (var db = Db())
        {
            Assert.Equal([1, 2], await db.TrainingEpochs.Where(e => e.RunId == run.Id).Select(e => e.Epoch).OrderBy(e => e).ToListAsync());
            Assert.Equal(8, await db.TrainingSteps.CountAsync(s => s.RunId == run.Id));
            Assert.Equal(5, (await db.TrainingRuns.SingleAsync(r => r.Id == run.Id)).Epochs);
        }

        File.Delete(checkpoint);
        await using (var db = Db())
        {
            var tracked = await db.TrainingRuns.SingleAsync(r => r.Id == run.Id);
            Assert.Equal(0, ledger.TrimToCheckpoint(db, tracked, checkpoint, epochs: 5));
        }
        await using (var db = Db())
        {
            Assert.False(await db.TrainingSteps.AnyAsync(s => s.RunId == run.Id));
            Assert.False(await db.TrainingEpochs.AnyAsync(e => e.RunId == run.Id));
        }
    }

    [Fact]
    public async Task A_run_whose_heartbeat_is_stale_is_not_alive_and_a_started_one_beats()
    {
        _ = factory.Server;
        var ledger = factory.Services.GetRequiredService<TrainingRunLedger>();
        var dataset = Dataset(factory.DataFolder);
        var run = Run(dataset);
        run.Status = TrainingRunStatus.Running;
        run.HeartbeatUtc = DateTimeOffset.UtcNow - TrainingRunLedger.HeartbeatStale - TimeSpan.FromSeconds(1);
        await using var db = Db();
        db.TrainingDatasets.Add(dataset);
        db.TrainingRuns.Add(run);
        await db.SaveChangesAsync();
        Assert.False(ledger.IsAlive(db, run, CancellationToken.None));

        using (ledger.Start(db, run))
        {
            Assert.Equal(TrainingRunStatus.Running, run.Status);
            Assert.Equal(1, run.Attempts);
            var started = run.HeartbeatUtc!.Value;
            var deadline = DateTime.UtcNow + TrainingRunLedger.HeartbeatInterval * 4;
            DateTimeOffset? beat = started;
            while (beat == started && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
                await using var fresh = Db();
                beat = await fresh.TrainingRuns.Where(r => r.Id == run.Id).Select(r => r.HeartbeatUtc).SingleAsync();
            }
            Assert.True(beat > started, "the heartbeat did not move while the run was started");
        }
    }

    [Fact]
    public void Without_an_active_model_there_is_no_incumbent_to_measure()
    {
        _ = factory.Server;
        using var db = Db();
        foreach (var active in db.ModelVersions.Where(v => v.IsActive)) active.IsActive = false;
        db.SaveChanges();
        var measured = factory.Services.GetRequiredService<IncumbentMeasurement>()
            .Measure(db, Run(null), [], [new EvaluatedImage("a", 0, 0, [1, 0, 0, 0, 0])], CancellationToken.None);
        Assert.Null(measured);
    }

    [Fact]
    public void Failures_about_inputs_or_the_machine_are_told_in_words_and_others_point_to_the_log()
    {
        Assert.Equal("no base", TrainingFailure.Readable(new TrainingFailure("no base")));
        Assert.Contains("smaller batch size", TrainingFailure.Readable(new OutOfMemoryException()));
        Assert.Contains("could not be read or written: disk full", TrainingFailure.Readable(new IOException("disk full")));
        Assert.Equal("Unexpected error (NullReferenceException). The server log has the details.",
            TrainingFailure.Readable(new NullReferenceException()));
    }

    /// <summary>A checkpoint file as far as <see cref="Checkpoint.ReadHeader"/> reads it: the magic line and the JSON header.</summary>
    private static void WriteHeaderOnly(string path, int epochsCompleted)
    {
        var header = new CheckpointHeader(epochsCompleted, "resnet18", "Paper", new TrainingOptions(), [], [], [], 0.5, 1, 0);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header,
            new JsonSerializerOptions { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals });
        using var writer = new BinaryWriter(File.Create(path), Encoding.UTF8);
        writer.Write("DRWEB-CKPT-1\n"u8.ToArray());
        writer.Write(json.Length);
        writer.Write(json);
    }
}
