using DrWeb.Ml.Imaging;
using DrWeb.Ml.Manifest;
using DrWeb.Ml.Training;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Registry;
using DrWeb.Server.Training;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Support;

/// <summary>A real app host with a few dozen fundus-dev images registered as a dataset.</summary>
public sealed class TrainingHost : IDisposable
{
    public TinyFundusSet Images { get; } = new(perGrade: 10);
    public DrWebFactory Factory { get; }

    public TrainingHost() : this(DatabaseProvider.Sqlite)
    {
    }

    public TrainingHost(DatabaseProvider provider)
    {
        Factory = DrWebFactory.On(provider);
        Factory.Settings["DrWeb:Training:DatasetRoots:0"] = Path.GetDirectoryName(Images.Folder);
        _ = Factory.Server;
        var registered = Datasets.RegisterFolderAsync(Images.Folder, "tiny").GetAwaiter().GetResult();
        if (!registered.Succeeded) throw new InvalidOperationException(registered.Message + registered.Report);
        Dataset = registered.Dataset!;
    }

    public TrainingDataset Dataset { get; }
    public TrainingRuns Runs => Factory.Services.GetRequiredService<TrainingRuns>();
    public TrainingDatasets Datasets => Factory.Services.GetRequiredService<TrainingDatasets>();
    public ModelRegistry Registry => Factory.Services.GetRequiredService<ModelRegistry>();
    public ModelImports Imports => Factory.Services.GetRequiredService<ModelImports>();
    public IImageStore Store => Factory.Services.GetRequiredService<IImageStore>();

    public RunSettings Tiny(int epochs = 1) => new()
    {
        DatasetId = Dataset.Id, Architecture = "resnet18",
        Options = new TrainingOptions { Epochs = epochs, BatchSize = 8, Trainable = "head", Seed = 7 },
    };

    public async Task<DrWebDbContext> DbAsync() =>
        await Factory.Services.GetRequiredService<IDbContextFactory<DrWebDbContext>>().CreateDbContextAsync();

    /// <summary>Polls the run's row (as the page does) until it ends.</summary>
    public async Task<TrainingRun> WaitForEndAsync(Guid runId, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromMinutes(4));
        while (DateTime.UtcNow < deadline)
        {
            var run = await Runs.GetAsync(runId);
            if (run!.Status is TrainingRunStatus.Succeeded or TrainingRunStatus.Failed or TrainingRunStatus.Cancelled) return run;
            await Task.Delay(250);
        }
        throw new TimeoutException($"Run {runId} did not end in time: {(await Runs.GetAsync(runId))!.Phase}");
    }

    public async Task<TrainingRun> WaitUntilAsync(Guid runId, Func<TrainingRun, bool> condition, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromMinutes(2));
        while (DateTime.UtcNow < deadline)
        {
            var run = await Runs.GetAsync(runId);
            if (condition(run!)) return run!;
            await Task.Delay(100);
        }
        throw new TimeoutException($"Run {runId} did not reach the expected state: {(await Runs.GetAsync(runId))!.Phase}");
    }

    public void Dispose()
    {
        Factory.Dispose();
        Images.Dispose();
    }
}

/// <summary>A <see cref="TrainingHost"/> per database provider.</summary>
public sealed class TrainingHosts() : PerProvider<TrainingHost>(provider => new TrainingHost(provider));
