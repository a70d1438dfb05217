using System.Text.Json;
using DrWeb.Tests.Browser;
using DrWeb.Tests.Support;

namespace DrWeb.Tests.Server;

/// <summary>Starting the app the ways an operator does.</summary>
public class FrontDoorTests
{
    [Fact]
    public async Task The_server_listens_where_ASPNETCORE_URLS_says()
    {
        await using var server = await ServerProcess.StartAsync(urlInEnvironment: true);
        using var http = new HttpClient();
        Assert.True((await http.GetAsync(server.Url + "/account/login")).IsSuccessStatusCode);
    }

    [Fact]
    public void Dotnet_run_names_no_address_that_would_override_ASPNETCORE_URLS()
    {
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(SharedData.RepoRoot, "DrWeb.Server", "Properties", "launchSettings.json")));
        foreach (var profile in settings.RootElement.GetProperty("profiles").EnumerateObject())
        {
            Assert.False(profile.Value.TryGetProperty("applicationUrl", out _), $"profile {profile.Name} sets applicationUrl");
            if (profile.Value.TryGetProperty("environmentVariables", out var env))
                Assert.False(env.TryGetProperty("ASPNETCORE_URLS", out _), $"profile {profile.Name} sets ASPNETCORE_URLS");
        }
    }
}
