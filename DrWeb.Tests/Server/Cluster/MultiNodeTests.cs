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
}
