using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DrWeb.Tests.Support;

namespace DrWeb.Tests.Browser;

/// <summary>The real DrWeb server as a child process on a free loopback port, with its own temporary data folder.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempFolder _data = new();

    private ServerProcess(Process process, string url)
    {
        _process = process;
        Url = url;
    }

    public string Url { get; }

    public const string AdminEmail = "admin@drweb.test", AdminPassword = "browser-test-password";

    public static async Task<ServerProcess> StartAsync()
    {
        // Run the server from its own build output, where its static web assets manifest lives.
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Parent!.Name; // bin/<Configuration>/net10.0/linux-x64
        string dll = Path.Combine(SharedData.RepoRoot, "DrWeb.Server", "bin", configuration, "net10.0", "linux-x64", "DrWeb.Server.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"Build DrWeb.Server first; expected {dll}.");
        int port = FreePort();
        string url = $"http://127.0.0.1:{port}";
        var data = new TempFolder();
        var start = new ProcessStartInfo("dotnet", [dll, "--urls", url])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = data.Path,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["DrWeb__DataFolder"] = data.Path;
        start.Environment["DrWeb__Admin__Email"] = AdminEmail;
        start.Environment["DrWeb__Admin__Password"] = AdminPassword;
        start.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, url);
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _data.Dispose();
    }
}
