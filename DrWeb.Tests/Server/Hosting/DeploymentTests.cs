using System.Diagnostics;
using System.Text.RegularExpressions;
using DrWeb.Tests.Support;

namespace DrWeb.Tests.Server.Hosting;

/// <summary>
/// The app in Production, as deployed: from `dotnet publish` output and from plain build output. Every stylesheet and
/// script the sign-in page links must come back with content (a build once answered 200 with 0 bytes for all of them).
/// </summary>
[Trait("Category", "Deployment")]
public class DeploymentTests
{
    private static readonly Dictionary<string, string> Production = new() { ["ASPNETCORE_ENVIRONMENT"] = "Production" };

    [Fact]
    public async Task The_build_output_serves_its_css_and_js_in_Production()
    {
        await using var server = await ServerProcess.StartAsync(environment: Production);
        await AssertAssetsServedAsync(server.Url);
    }

    [Fact]
    public async Task The_published_app_serves_its_css_and_js_in_Production()
    {
        using var published = new TempFolder();
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Parent!.Name;
        var publish = Process.Start(new ProcessStartInfo("dotnet",
            ["publish", Path.Combine(SharedData.RepoRoot, "DrWeb.Server", "DrWeb.Server.csproj"), "-c", configuration, "--no-build", "-o", published.Path, "-nologo"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        string log = await publish.StandardOutput.ReadToEndAsync() + await publish.StandardError.ReadToEndAsync();
        await publish.WaitForExitAsync();
        Assert.True(publish.ExitCode == 0, log);
        Assert.False(File.Exists(Path.Combine(published.Path, "DrWeb.Server.staticwebassets.runtime.json")));

        await using var server = await ServerProcess.StartAsync(environment: Production, dll: Path.Combine(published.Path, "DrWeb.Server.dll"));
        await AssertAssetsServedAsync(server.Url);
    }

    private static async Task AssertAssetsServedAsync(string url)
    {
        using var http = new HttpClient();
        string page = await http.GetStringAsync(url + "/account/login");
        var assets = Regex.Matches(page, "(?:href|src)=\"([^\"]+\\.(?:css|js))\"").Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Contains(assets, a => a.Contains("MudBlazor") && a.EndsWith(".css"));
        Assert.Contains(assets, a => a.Contains("blazor.web") && a.EndsWith(".js"));
        foreach (string asset in assets)
        {
            var response = await http.GetAsync($"{url}/{asset.TrimStart('/')}");
            byte[] body = await response.Content.ReadAsByteArrayAsync();
            Assert.True(response.IsSuccessStatusCode && body.Length > 100, $"{asset}: {(int)response.StatusCode}, {body.Length} bytes");
        }
    }
}
