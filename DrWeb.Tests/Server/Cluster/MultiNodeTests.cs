using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Training;
using DrWeb.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;

namespace DrWeb.Tests.Server.Cluster;

/// <summary>
/// Several real server processes on loopback ports sharing one PostgreSQL database: what one node does, the others see.
/// </summary>
[Trait("Category", "Deployment")]
public class MultiNodeTests(ITestOutputHelper output)
{
    private static readonly JsonSerializerOptions Json = new(RunSettings.Json) { PropertyNameCaseInsensitive = true };

    private static Dictionary<string, string> Node(TestDatabase database, string name, string roles, string imageStore = "database",
        params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string>
        {
            ["DrWeb__Database__Provider"] = "postgres",
            ["ConnectionStrings__DrWeb"] = database.ConnectionString,
            ["DrWeb__Database__ImageStore"] = imageStore,
            ["DrWeb__NodeName"] = name,
            ["DrWeb__Roles__0"] = roles,
            ["DrWeb__RateLimits__SignInPerMinute"] = "10000",
            ["DrWeb__RateLimits__ApiPerMinute"] = "10000",
        };
        foreach (var (key, value) in more) settings[key] = value;
        return settings;
    }

    [PostgresFact]
    public async Task Two_web_nodes_share_cases_images_cookies_tokens_and_the_active_model()
    {
        using var database = TestPostgres.CreateDatabase();
        await using var node1 = await ServerProcess.StartAsync(environment: Node(database, "web-1", "web,screening"));
        await using var node2 = await ServerProcess.StartAsync(environment: Node(database, "web-2", "web,screening"));

        // A screening posted to node 1 is read, with its photograph, from node 2.
        using var api1 = await node1.AdminApiClientAsync();
        byte[] photo = File.ReadAllBytes(SharedData.FundusDevImage("10030_right.jpeg"));
        var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(photo) { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } }, "images", "10030_right.jpeg" },
            { new StringContent("NODE-1"), "patientId" },
        };
        var screened = await api1.PostAsync("/api/screenings", form);
        Assert.True(screened.StatusCode == HttpStatusCode.OK, await screened.Content.ReadAsStringAsync());
        var result = (await screened.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results")[0];
        string caseId = result.GetProperty("caseId").GetString()!;

        using var api2 = await node2.AdminApiClientAsync();
        var fetched = await api2.GetFromJsonAsync<JsonElement>($"/api/screenings/{caseId}");
        Assert.Equal(result.GetProperty("grade").GetInt32(), fetched.GetProperty("grade").GetInt32());
        Assert.Equal(photo, await api2.GetByteArrayAsync($"/api/screenings/{caseId}/original"));

        // A token issued through node 2's database works on node 1 (tokens are rows, not process state).
        var fromNode2Token = new HttpClient { BaseAddress = new Uri(node1.Url) };
        fromNode2Token.DefaultRequestHeaders.Authorization = api2.DefaultRequestHeaders.Authorization;
        Assert.Equal(HttpStatusCode.OK, (await fromNode2Token.GetAsync($"/api/screenings/{caseId}")).StatusCode);

        // The sign-in form comes from node 1 and is posted to node 2: node 1's antiforgery token is valid there. The
        // cookie node 2 issues then opens node 1's history, which lists the case.
        var jar = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = jar });
        string loginPage = await browser.GetStringAsync(node1.Url + "/account/login");
        MoveCookies(jar, node1.Url, node2.Url);
        var signedIn = await browser.PostAsync(node2.Url + "/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = DrWebFactory.FormToken(loginPage),
            ["Input.Email"] = ServerProcess.AdminEmail,
            ["Input.Password"] = ServerProcess.AdminPassword,
        }));
        Assert.Equal(new Uri(node2.Url + "/"), signedIn.RequestMessage!.RequestUri);
        MoveCookies(jar, node2.Url, node1.Url);
        var history = await browser.GetAsync(node1.Url + "/screening/history");
        Assert.Equal("/screening/history", history.RequestMessage!.RequestUri!.AbsolutePath);
        string historyHtml = await history.Content.ReadAsStringAsync();
        Assert.True(historyHtml.Contains("NODE-1"), Regex.Replace(historyHtml, "<[^>]+>", " ")[..Math.Min(4000, historyHtml.Length)]);

        // Both nodes report ready; an admin sees which node answered and every check.
        Assert.Equal("Healthy", await new HttpClient().GetStringAsync(node2.Url + "/readyz"));
        var details = await api2.GetFromJsonAsync<JsonElement>("/readyz");
        Assert.Equal("web-2", details.GetProperty("node").GetString());
        Assert.Contains("all migrations applied", details.GetProperty("checks").GetProperty("migrations").GetProperty("description").GetString());
        Assert.Equal("Healthy", details.GetProperty("checks").GetProperty("postgres").GetProperty("status").GetString());

        // Activating another version on node 1 reaches node 2's gradings within its poll interval (2 s) plus the load.
        Guid copyId;
        await using (var db = await node1.Database().CreateDbContextAsync())
        {
            var starter = await db.ModelVersions.AsNoTracking().SingleAsync(v => v.IsActive);
            var copy = Copy(starter);
            db.ModelVersions.Add(copy);
            await db.SaveChangesAsync();
            copyId = copy.Id;
        }
        var activated = await api1.PostAsync($"/api/models/{copyId}/activate", null);
        Assert.True(activated.IsSuccessStatusCode, await activated.Content.ReadAsStringAsync());
        var clock = Stopwatch.StartNew();
        string version = "";
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && !version.StartsWith("second-copy", StringComparison.Ordinal))
        {
            var again = await api2.PostAsync("/api/screenings", new MultipartFormDataContent
            {
                { new ByteArrayContent(photo) { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } }, "images", "again.jpeg" },
            });
            version = (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results")[0].GetProperty("modelVersion").GetString()!;
            if (!version.StartsWith("second-copy", StringComparison.Ordinal)) await Task.Delay(250);
        }
        output.WriteLine($"node 2 graded with the version activated on node 1 after {clock.Elapsed.TotalSeconds:F1} s");
        Assert.StartsWith("second-copy", version);
    }

    /// <summary>Both nodes are 127.0.0.1 on different ports; a browser behind one load balancer sends one set of cookies to both.</summary>
    private static void MoveCookies(CookieContainer jar, string from, string to)
    {
        foreach (Cookie c in jar.GetCookies(new Uri(from))) jar.Add(new Uri(to), new Cookie(c.Name, c.Value, "/"));
    }

    private static ModelVersion Copy(ModelVersion v) => new()
    {
        Name = "second-copy", Location = v.Location, Source = ModelSource.Imported, Architecture = v.Architecture, Head = v.Head,
        TrainablePolicy = v.TrainablePolicy, Preprocessing = v.Preprocessing, BaseWeights = v.BaseWeights, DataFingerprint = v.DataFingerprint,
        CreatedUtc = v.CreatedUtc, RegisteredUtc = DateTimeOffset.UtcNow,
    };

    /// <summary>A shared data folder with the tiny dataset in it, as a mount every training node sees.</summary>
    private static string SharedDatasetIn(TempFolder shared, TinyFundusSet images)
    {
        string folder = Path.Combine(shared.Path, "datasets", "tiny");
        Training.TrainingCrashTests.CopyFolder(images.Folder, folder);
        return folder;
    }

    /// <summary>One web node and two training nodes (train-a, train-b) on one database and one shared data folder.</summary>
    private sealed class TrainingCluster : IAsyncDisposable
    {
        public required TestDatabase Database { get; init; }
        public required TempFolder Shared { get; init; }
        public required TinyFundusSet Images { get; init; }
        public required ServerProcess Web { get; init; }
        public required ServerProcess TrainA { get; init; }
        public required ServerProcess TrainB { get; init; }
        public required string DatasetFolder { get; init; }

        public static async Task<TrainingCluster> StartAsync()
        {
            var database = TestPostgres.CreateDatabase();
            var shared = new TempFolder();
            var images = new TinyFundusSet(perGrade: 10);
            string datasetFolder = SharedDatasetIn(shared, images);
            return new TrainingCluster
            {
                Database = database, Shared = shared, Images = images, DatasetFolder = datasetFolder,
                Web = await ServerProcess.StartAsync(shared.Path, Node(database, "web-1", "web,screening", "folder", FastRequeue)),
                TrainA = await ServerProcess.StartAsync(shared.Path, Node(database, "train-a", "training", "folder", FastRequeue)),
                TrainB = await ServerProcess.StartAsync(shared.Path, Node(database, "train-b", "training", "folder", FastRequeue)),
            };
        }

        public async ValueTask DisposeAsync()
        {
            await Web.DisposeAsync();
            await TrainA.DisposeAsync();
            await TrainB.DisposeAsync();
            Images.Dispose();
            Shared.Dispose();
            Database.Dispose();
        }
    }

    private static async Task<Guid> RegisterDatasetAsync(HttpClient api, string folder)
    {
        var dataset = await api.PostAsJsonAsync("/api/datasets", new { path = folder, name = "tiny" });
        Assert.True(dataset.StatusCode == HttpStatusCode.Created, await dataset.Content.ReadAsStringAsync());
        return (await dataset.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static async Task<Guid> QueueRunAsync(HttpClient api, Guid datasetId, string name, int epochs, int seed)
    {
        var settings = new RunSettings
        {
            DatasetId = datasetId, Architecture = "resnet18",
            Options = new TrainingOptions { Epochs = epochs, BatchSize = 8, Trainable = "head", Seed = seed },
        };
        var created = await api.PostAsync("/api/training-runs", JsonContent.Create(new TrainingApi.RunRequest(settings, name, null), options: Json));
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return (await created.Content.ReadFromJsonAsync<TrainingApi.RunState>(Json))!.Id;
    }

    private static Task<TrainingApi.RunState> PollAsync(HttpClient api, Guid runId, Func<TrainingApi.RunState, bool> until, TimeSpan limit) =>
        Training.TrainingCrashTests.PollAsync(api, runId, until, limit);

    private static bool Ended(TrainingApi.RunState s) => s.Status is "Succeeded" or "Failed" or "Cancelled";

    // Short, so the kill test need not wait long; a running job's fetch is renewed, so a longer run is never fetched twice.
    private static readonly (string, string) FastRequeue = ("DrWeb__Training__RequeueAbandonedAfter", "00:00:10");

    [PostgresFact]
    public async Task Training_nodes_take_every_queued_run_exactly_once_one_at_a_time_and_the_web_node_takes_none()
    {
        await using var cluster = await TrainingCluster.StartAsync();
        var (web, trainA, trainB, datasetFolder) = (cluster.Web, cluster.TrainA, cluster.TrainB, cluster.DatasetFolder);
        using var api = await web.AdminApiClientAsync();
        Guid datasetId = await RegisterDatasetAsync(api, datasetFolder);

        var runIds = new List<Guid>();
        for (int i = 0; i < 3; i++) runIds.Add(await QueueRunAsync(api, datasetId, $"cluster-{i}", epochs: 2, seed: 10 + i));
        var states = new List<TrainingApi.RunState>();
        foreach (var id in runIds) states.Add(await PollAsync(api, id, Ended, TimeSpan.FromMinutes(6)));

        await using var db = await web.Database().CreateDbContextAsync();
        var runs = await db.TrainingRuns.AsNoTracking().Where(r => runIds.Contains(r.Id)).ToListAsync();
        foreach (var run in runs)
        {
            output.WriteLine($"{run.Name}: {run.Node}, attempts {run.Attempts}, {run.StartedUtc:HH:mm:ss.f}-{run.FinishedUtc:HH:mm:ss.f}");
            Assert.True(run.Status == TrainingRunStatus.Succeeded, $"{run.Name}: {run.Status} {run.Error}");
            Assert.Equal(1, run.Attempts);
            Assert.Contains(run.Node, new[] { "train-a", "train-b" });
            Assert.Equal(1, await db.ModelVersions.CountAsync(v => v.TrainingRunId == run.Id));
            Assert.Equal(2, await db.TrainingEpochs.CountAsync(e => e.RunId == run.Id));
        }
        // One worker per node: runs on the same node never overlap in time.
        foreach (var onOneNode in runs.GroupBy(r => r.Node))
        {
            var ordered = onOneNode.OrderBy(r => r.StartedUtc).ToList();
            for (int i = 1; i < ordered.Count; i++)
                Assert.True(ordered[i].StartedUtc >= ordered[i - 1].FinishedUtc, $"{ordered[i].Name} started on {onOneNode.Key} before {ordered[i - 1].Name} finished");
        }
        // Hangfire's server list shows the three nodes and their queues.
        var ready = await api.GetFromJsonAsync<JsonElement>("/readyz");
        string servers = ready.GetProperty("checks").GetProperty("jobs").GetProperty("description").GetString()!;
        Assert.Contains("train-a", servers);
        Assert.Contains("train-b", servers);
        Assert.Matches(@"web-1:\d+:[0-9a-f-]+ \[scheduling\]", servers);
        Assert.Matches(@"train-a:\d+:[0-9a-f-]+ \[training,scheduling\]", servers);

        // The Training page, served by the web node, names the node that ran each run.
        var jar = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = jar }) { BaseAddress = new Uri(web.Url) };
        await DrWebFactory.SignInAsync(browser, ServerProcess.AdminEmail, ServerProcess.AdminPassword);
        string page = await browser.GetStringAsync("/training");
        var shown = Regex.Matches(page, "data-testid=\"run-node\"[^>]*>([^<]+)<").Select(m => m.Groups[1].Value.Trim()).ToList();
        Assert.Equal(runs.Select(r => r.Node!).Order(), shown.Order());
    }

    [PostgresFact]
    public async Task A_training_node_killed_mid_run_hands_it_to_the_other_which_resumes_from_the_checkpoint()
    {
        await using var cluster = await TrainingCluster.StartAsync();
        var (web, trainA, trainB, datasetFolder) = (cluster.Web, cluster.TrainA, cluster.TrainB, cluster.DatasetFolder);
        using var api = await web.AdminApiClientAsync();
        Guid runId = await QueueRunAsync(api, await RegisterDatasetAsync(api, datasetFolder), "kill-test", epochs: 4, seed: 3);

        var afterOne = await PollAsync(api, runId, s => s.EpochMetrics.Count >= 1, TimeSpan.FromMinutes(3));
        Assert.Equal("Running", afterOne.Status);
        string victim = afterOne.Node!;
        await (victim == "train-a" ? trainA : trainB).KillAsync();
        var killedAt = Stopwatch.StartNew();

        var resumed = await PollAsync(api, runId, s => s.Attempts == 2 && s.Status == "Running", TimeSpan.FromMinutes(2));
        output.WriteLine($"{victim} killed after epoch {afterOne.EpochMetrics.Count}; {resumed.Node} resumed the run {killedAt.Elapsed.TotalSeconds:F1} s later");
        var done = await PollAsync(api, runId, Ended, TimeSpan.FromMinutes(4));

        Assert.True(done.Status == "Succeeded", $"{done.Status}: {done.Error} ({done.Phase})");
        Assert.NotEqual(victim, done.Node);
        Assert.Equal(2, done.Attempts);
        Assert.InRange(done.ResumedAfterEpoch ?? 0, 1, 3);
        Assert.Equal(Enumerable.Range(1, 4), done.EpochMetrics.Select(e => e.Epoch));
        Assert.Equal(afterOne.EpochMetrics[0].RowId, done.EpochMetrics[0].RowId);
        await using var db = await web.Database().CreateDbContextAsync();
        Assert.Equal(1, await db.ModelVersions.CountAsync(v => v.TrainingRunId == runId));
    }

    [PostgresFact]
    public async Task A_sqlite_installation_moves_into_postgres_with_every_row_and_image_and_serves_the_same_cases()
    {
        using var oldData = new TempFolder();
        byte[] photo = File.ReadAllBytes(SharedData.FundusDevImage("10030_right.jpeg"));
        string caseId;
        JsonElement before;
        await using (var sqlite = await ServerProcess.StartAsync(oldData.Path))
        {
            using var api = await sqlite.AdminApiClientAsync();
            var screened = await api.PostAsync("/api/screenings", new MultipartFormDataContent
            {
                { new ByteArrayContent(photo) { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } }, "images", "10030_right.jpeg" },
                { new StringContent("MOVED-1"), "patientId" },
            });
            Assert.True(screened.IsSuccessStatusCode, await screened.Content.ReadAsStringAsync());
            caseId = (await screened.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results")[0].GetProperty("caseId").GetString()!;
            before = await api.GetFromJsonAsync<JsonElement>($"/api/screenings/{caseId}");
        }

        using var database = TestPostgres.CreateDatabase();
        using var newData = new TempFolder();
        var target = Node(database, "moved", "web,screening", "database", ("DrWeb__DataFolder", newData.Path));
        var (code, stdout, stderr) = await ServerProcess.RunVerbAsync(target, "migrate", "--from-sqlite", oldData.Path);
        output.WriteLine(stdout);
        Assert.True(code == 0, stdout + stderr);
        Assert.Matches(@"images\s+\d+ copied, \d+ read back with matching SHA-256", stdout);

        // Every table's count is equal on both sides, checked here independently of the verb's own check.
        var source = DrWebDatabase.Factory(DatabaseProvider.Sqlite, $"Data Source={Path.Combine(oldData.Path, "drweb.db")}");
        var moved = DrWebDatabase.Factory(DatabaseProvider.Postgres, database.ConnectionString);
        await using (var from = await source.CreateDbContextAsync())
        await using (var to = await moved.CreateDbContextAsync())
        {
            Assert.Equal(await from.Users.CountAsync(), await to.Users.CountAsync());
            Assert.Equal(await from.Cases.CountAsync(), await to.Cases.CountAsync());
            Assert.Equal(await from.Predictions.CountAsync(), await to.Predictions.CountAsync());
            Assert.Equal(await from.ApiTokens.CountAsync(), await to.ApiTokens.CountAsync());
            Assert.Equal(await from.AuditEntries.CountAsync(), await to.AuditEntries.CountAsync());
            Assert.Equal(await from.ModelVersions.CountAsync(), await to.ModelVersions.CountAsync());
            var folderImages = new DrWeb.Server.Platform.FolderImageStore(new DrWeb.Server.Platform.DataFolder(
                Microsoft.Extensions.Options.Options.Create(new DrWeb.Server.Platform.DrWebOptions { DataFolder = oldData.Path })));
            Assert.Equal(folderImages.Hashes().Order(), new DrWeb.Server.Platform.DatabaseImageStore(moved).Hashes());
            // Identity columns continue after the copied keys: a new audit row gets a new id.
            to.AuditEntries.Add(new AuditEntry { Action = "test", Actor = "test", TimeUtc = DateTimeOffset.UtcNow });
            await to.SaveChangesAsync();
        }

        // A second move into the same database is refused: nothing is overwritten or mixed in.
        var (again, _, againErr) = await ServerProcess.RunVerbAsync(target, "migrate", "--from-sqlite", oldData.Path);
        Assert.Equal(1, again);
        Assert.Contains("already holds", againErr);

        // The moved installation serves the same case and photograph, to the same admin, from PostgreSQL only.
        await using var pg = await ServerProcess.StartAsync(newData.Path, target);
        using var pgApi = await pg.AdminApiClientAsync();
        var after = await pgApi.GetFromJsonAsync<JsonElement>($"/api/screenings/{caseId}");
        Assert.Equal(before.GetRawText(), after.GetRawText());
        Assert.Equal(photo, await pgApi.GetByteArrayAsync($"/api/screenings/{caseId}/original"));
    }

    [PostgresFact]
    public async Task The_migrate_verb_brings_an_empty_database_up_to_date_once_on_either_provider()
    {
        using var database = TestPostgres.CreateDatabase();
        using var data = new TempFolder();
        var postgres = Node(database, "migrator", "web", "database", ("DrWeb__DataFolder", data.Path));
        var sqlite = new Dictionary<string, string> { ["DrWeb__DataFolder"] = data.Path };
        foreach (var settings in new[] { postgres, sqlite })
        {
            var (code, stdout, stderr) = await ServerProcess.RunVerbAsync(settings, "migrate");
            Assert.True(code == 0, stdout + stderr);
            Assert.Matches(@"^(Postgres|Sqlite): [1-9]\d* migration\(s\) applied: ", stdout);
            var (again, secondOut, _) = await ServerProcess.RunVerbAsync(settings, "migrate");
            Assert.Equal(0, again);
            Assert.Contains("0 migration(s) applied; the database is up to date.", secondOut);
        }
        await using var db = await DrWebDatabase.Factory(DatabaseProvider.Postgres, database.ConnectionString).CreateDbContextAsync();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());

        // Without a connection string the verb says what to set instead of failing somewhere inside.
        var (missing, _, message) = await ServerProcess.RunVerbAsync(new Dictionary<string, string>
        {
            ["DrWeb__DataFolder"] = data.Path, ["DrWeb__Database__Provider"] = "postgres",
        }, "migrate");
        Assert.Equal(2, missing);
        Assert.Contains("ConnectionStrings__DrWeb", message);
    }
}
