using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace DrWeb.Tests.Support;

/// <summary>The real DrWeb server as a child process on a free loopback port, with its own temporary data folder.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempFolder? _ownedData;

    private ServerProcess(Process process, string url, string dataFolder, TempFolder? ownedData)
    {
        _process = process;
        Url = url;
        DataFolder = dataFolder;
        _ownedData = ownedData;
    }

    public string Url { get; }
    public string DataFolder { get; }

    public const string AdminEmail = "admin@drweb.test", AdminPassword = "browser-test-password";

    /// <param name="dataFolder">A data folder to use (and keep); null for a temporary one removed on dispose.</param>
    /// <param name="environment">Extra settings, e.g. <c>DrWeb__Training__RequeueAbandonedAfter</c>.</param>
    /// <param name="urlInEnvironment">Name the address in ASPNETCORE_URLS, as an operator would, instead of --urls.</param>
    /// <param name="dll">The server to run; by default its build output, where its static web assets manifest lives.</param>
    public static async Task<ServerProcess> StartAsync(string? dataFolder = null, IReadOnlyDictionary<string, string>? environment = null,
        bool urlInEnvironment = false, string? dll = null)
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Parent!.Name; // bin/<Configuration>/net10.0/linux-x64
        dll ??= Path.Combine(SharedData.RepoRoot, "DrWeb.Server", "bin", configuration, "net10.0", "linux-x64", "DrWeb.Server.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"Build DrWeb.Server first; expected {dll}.");
        int port = FreePort();
        string url = $"http://127.0.0.1:{port}";
        var owned = dataFolder is null ? new TempFolder() : null;
        string data = dataFolder ?? owned!.Path;
        var start = new ProcessStartInfo("dotnet", urlInEnvironment ? [dll] : [dll, "--urls", url])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = data,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["DrWeb__DataFolder"] = data;
        start.Environment["DrWeb__Admin__Email"] = AdminEmail;
        start.Environment["DrWeb__Admin__Password"] = AdminPassword;
        start.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        if (urlInEnvironment) start.Environment["ASPNETCORE_URLS"] = url;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, url, data, owned);
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"The server exited with code {process.ExitCode}.");
            try
            {
                if ((await http.GetAsync(url + "/account/login")).IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException) { }
            await Task.Delay(250);
        }
        await server.DisposeAsync();
        throw new TimeoutException($"The server did not answer on {url} within 90 s.");
    }

    /// <summary>An HTTP client with an API token of the seeded admin, issued straight into the server's database.</summary>
    public async Task<HttpClient> AdminApiClientAsync()
    {
        var options = new DbContextOptionsBuilder<DrWebDbContext>().UseSqlite($"Data Source={Path.Combine(DataFolder, "drweb.db")}").Options;
        var factory = new PooledDbContextFactory<DrWebDbContext>(options);
        string adminId;
        await using (var db = new DrWebDbContext(options))
            adminId = (await db.Users.SingleAsync(u => u.Email == AdminEmail)).Id;
        var (_, secret) = await new ApiTokenService(factory, new AuditLog(factory)).IssueAsync("test", adminId, "test");
        var http = new HttpClient { BaseAddress = new Uri(Url) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        return http;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>SIGKILL, as a crash or an out-of-memory kill would: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _ownedData?.Dispose();
    }
}
