using System.Text.Json;
using DrWeb.Tests.Support;

namespace DrWeb.Tests.Server.Hosting;

/// <summary>Starting the app the ways an operator does.</summary>
[Trait("Category", "Deployment")]
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
    public async Task A_body_over_Kestrels_limit_is_a_413_problem_document_on_the_real_server()
    {
        await using var server = await ServerProcess.StartAsync();
        using var http = await server.AdminApiClientAsync();
        // As curl does for large bodies: the server may answer before the body is sent, instead of cutting it off.
        http.DefaultRequestHeaders.ExpectContinue = true;
        using var form = new MultipartFormDataContent { { new ByteArrayContent(new byte[40 * 1024 * 1024]), "images", "huge.jpeg" } };
        var response = await http.PostAsync("/api/screenings", form);
        Assert.Equal(System.Net.HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("larger than the server accepts", await response.Content.ReadAsStringAsync());
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
