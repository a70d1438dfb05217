using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Training;
using DrWeb.Tests.Browser;
using DrWeb.Tests.Support;

namespace DrWeb.Tests.Server.Training;

/// <summary>The real server as a child process, killed with SIGKILL in the middle of a training run.</summary>
[Trait("Category", "RealDataTraining")]
public class TrainingCrashTests
{
    private static readonly JsonSerializerOptions Json = new(RunSettings.Json) { PropertyNameCaseInsensitive = true };

    private static readonly Dictionary<string, string> FastRequeue = new()
    {
        // The SQLite storage hands out a job again once its fetch is this old; short, so the test need not wait.
        ["DrWeb__Training__RequeueAbandonedAfter"] = "00:00:03",
    };

    [Fact]
    public async Task After_a_kill_minus_9_the_next_start_resumes_the_run_from_its_last_checkpoint()
    {
        using var data = new TempFolder();
        using var images = new TinyFundusSet(perGrade: 10);
        string datasetFolder = Path.Combine(data.Path, "datasets", "tiny");
        Directory.CreateDirectory(Path.GetDirectoryName(datasetFolder)!);
        CopyFolder(images.Folder, datasetFolder);

        Guid runId;
        TrainingApi.EpochState firstEpoch;
        await using (var first = await ServerProcess.StartAsync(data.Path, FastRequeue))
        {
            using var http = await first.AdminApiClientAsync();
            var dataset = await http.PostAsJsonAsync("/api/datasets", new { path = datasetFolder, name = "tiny" });
            Assert.Equal(HttpStatusCode.Created, dataset.StatusCode);
            var datasetId = (await dataset.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
            var settings = new RunSettings
            {
                DatasetId = datasetId, Architecture = "resnet18",
                Options = new TrainingOptions { Epochs = 4, BatchSize = 8, Trainable = "head", Seed = 3 },
            };
            var created = await http.PostAsync("/api/training-runs",
                JsonContent.Create(new TrainingApi.RunRequest(settings, "crash-test", null), options: Json));
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
            runId = (await created.Content.ReadFromJsonAsync<TrainingApi.RunState>(Json))!.Id;

            var afterOne = await PollAsync(http, runId, s => s.EpochMetrics.Count >= 1, TimeSpan.FromMinutes(3));
            Assert.Equal("Running", afterOne.Status);
            firstEpoch = afterOne.EpochMetrics[0];
            await first.KillAsync();
        }

        await using var second = await ServerProcess.StartAsync(data.Path, FastRequeue);
        using var again = await second.AdminApiClientAsync();
        var done = await PollAsync(again, runId, s => s.Status is "Succeeded" or "Failed" or "Cancelled", TimeSpan.FromMinutes(4));

        Assert.True(done.Status == "Succeeded", $"{done.Status}: {done.Error} ({done.Phase})");
        Assert.Equal(2, done.Attempts);
        Assert.InRange(done.ResumedAfterEpoch ?? 0, 1, 3);
        Assert.Equal(4, done.EpochMetrics.Count);
        Assert.Equal(Enumerable.Range(1, 4), done.EpochMetrics.Select(e => e.Epoch));
        // Epoch 1 was not trained again: its row is the one written before the kill.
        Assert.Equal(firstEpoch.RowId, done.EpochMetrics[0].RowId);
        Assert.Equal(firstEpoch.Seconds, done.EpochMetrics[0].Seconds);
        Assert.NotNull(done.ModelVersionId);
    }

    internal static async Task<TrainingApi.RunState> PollAsync(HttpClient http, Guid runId, Func<TrainingApi.RunState, bool> until, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        TrainingApi.RunState? state = null;
        while (DateTime.UtcNow < deadline)
        {
            state = await http.GetFromJsonAsync<TrainingApi.RunState>($"/api/training-runs/{runId}", Json);
            if (until(state!)) return state!;
            await Task.Delay(200);
        }
        throw new TimeoutException($"Run {runId}: {state?.Status} / {state?.Phase}");
    }

    internal static void CopyFolder(string from, string to)
    {
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
