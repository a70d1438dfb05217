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

    private readonly IReadOnlyDictionary<string, string> _environment;

    private ServerProcess(Process process, string url, string dataFolder, TempFolder? ownedData, IReadOnlyDictionary<string, string> environment,
        System.Text.StringBuilder log)
    {
        _log = log;
        _environment = environment;
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
        dll ??= BuiltServer;
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
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, url, data, owned, environment ?? new Dictionary<string, string>(), log);
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"The server exited with code {process.ExitCode}: {log.ToString()[^Math.Min(log.Length, 3000)..]}");
            try
            {
                if ((await http.GetAsync(url + "/healthz")).IsSuccessStatusCode) return server;
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
        var factory = Database();
        string adminId;
        await using (var db = await factory.CreateDbContextAsync())
            adminId = (await db.Users.SingleAsync(u => u.Email == AdminEmail)).Id;
        var (_, secret) = await new ApiTokenService(factory, new AuditLog(factory)).IssueAsync("test", adminId, "test");
        var http = new HttpClient { BaseAddress = new Uri(Url) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        return http;
    }

    /// <summary>The server's build output in the tests' own configuration (bin/&lt;Configuration&gt;/net10.0/linux-x64).</summary>
    private static string BuiltServer => Path.Combine(SharedData.RepoRoot, "DrWeb.Server", "bin",
        new DirectoryInfo(AppContext.BaseDirectory).Parent!.Parent!.Name, "net10.0", "linux-x64", "DrWeb.Server.dll");

    /// <summary>Runs a command-line verb of the built server as its own process, with <paramref name="environment"/> as its settings.</summary>
    public static async Task<(int Code, string Out, string Err)> RunVerbAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [BuiltServer, .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var (key, value) in environment) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The server's database, as its settings name it (SQLite in its data folder unless told otherwise).</summary>
    public IDbContextFactory<DrWebDbContext> Database() =>
        _environment.TryGetValue("DrWeb__Database__Provider", out var provider) && provider == "postgres"
            ? DrWebDatabase.Factory(DatabaseProvider.Postgres, _environment["ConnectionStrings__DrWeb"])
            : DrWebDatabase.Factory(DatabaseProvider.Sqlite, $"Data Source={Path.Combine(DataFolder, "drweb.db")}");

    /// <summary>The server's standard output and error so far (for a failing test's message).</summary>
    public string Log
    {
        get
        {
            lock (_log) return _log.ToString();
        }
    }

    private readonly System.Text.StringBuilder _log;

    /// <summary>Keeps the last 200 KB of output: enough to explain a failure, bounded for a long run.</summary>
    private static void Append(System.Text.StringBuilder log, string? line)
    {
        if (line is null || line.Contains("NNPACK")) return;
        lock (log)
        {
            log.AppendLine(line);
            if (log.Length > 200_000) log.Remove(0, log.Length - 150_000);
        }
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
