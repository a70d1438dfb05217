using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;

namespace DrWeb.Server.Cli;

/// <summary>
/// <c>bench-api</c>: drives a running DrWeb server through <c>POST /api/screenings</c>: single-image latency (p50, p95),
/// throughput with concurrent users, and the server's resident memory as predictions accumulate.
/// </summary>
internal static class ApiBenchCommand
{
    public static Command Create()
    {
        var url = new Option<string[]>("--url")
        {
            Required = true, AllowMultipleArgumentsPerToken = true,
            Description = "Base URL of the running server; several (nodes sharing one database) are used in turn, request by request.",
        };
        var token = new Option<string>("--token") { Required = true, Description = "API token (see issue-token)." };
        var images = new Option<DirectoryInfo>("--images") { Required = true, Description = "Folder of fundus photographs to upload in turn." };
        var pid = new Option<int[]>("--server-pid")
        {
            AllowMultipleArgumentsPerToken = true,
            Description = "Process id of each server, to read its memory and CPU time from /proc.",
        };
        var latencyRequests = new Option<int>("--latency-requests") { DefaultValueFactory = _ => 50 };
        var users = new Option<int>("--users") { DefaultValueFactory = _ => 4 };
        var total = new Option<int>("--total") { Description = "Predictions to reach for the memory check.", DefaultValueFactory = _ => 500 };
        var command = new Command("bench-api", "Benchmark a running server through the screening API.") { url, token, images, pid, latencyRequests, users, total };
        command.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var files = parse.GetValue(images)!.EnumerateFiles("*.jp*g").OrderBy(f => f.Name).Take(40).Select(f => (f.Name, Bytes: File.ReadAllBytes(f.FullName))).ToArray();
            var clients = parse.GetValue(url)!.Select(u =>
            {
                var client = new HttpClient { BaseAddress = new Uri(u), Timeout = TimeSpan.FromMinutes(5) };
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", parse.GetValue(token));
                return client;
            }).ToArray();
            int done = 0;
            async Task<double> One()
            {
                int i = Interlocked.Increment(ref done);
                var (name, bytes) = files[i % files.Length];
                using var form = new MultipartFormDataContent { { new ByteArrayContent(bytes), "images", name } };
                long start = Stopwatch.GetTimestamp();
                using var response = await clients[i % clients.Length].PostAsync("/api/screenings", form, ct);
                response.EnsureSuccessStatusCode();
                return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
            int[] pids = parse.GetValue(pid) ?? [];
            string Memory() => pids.Length == 0 ? "n/a (no --server-pid)"
                : string.Join(", ", pids.Select(p => File.Exists($"/proc/{p}/status")
                    ? File.ReadLines($"/proc/{p}/status").First(l => l.StartsWith("VmRSS")).Split(':')[1].Trim() : "gone"));

            output.WriteLine($"images: {files.Length} from {parse.GetValue(images)!.FullName}; {clients.Length} server(s), requests in turn");
            while (done < 10) await One();
            output.WriteLine($"server memory after {done} predictions: {Memory()}");

            var latencies = new List<double>();
            for (int i = 0; i < parse.GetValue(latencyRequests); i++) latencies.Add(await One());
            latencies.Sort();
            double P(double q) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"upload-to-result latency, one user, {latencies.Count} requests: p50 {P(0.5):0} ms, p95 {P(0.95):0} ms, max {latencies[^1]:0} ms"));

            int n = parse.GetValue(users);
            var cpuBefore = pids.Select(CpuSeconds).ToArray();
            var clock = Stopwatch.StartNew();
            int before = done;
            await Task.WhenAll(Enumerable.Range(0, n).Select(async _ => { for (int i = 0; i < 10; i++) await One(); }));
            double wall = clock.Elapsed.TotalSeconds;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"throughput, {n} concurrent users x 10 requests: {(done - before) / wall:0.00} images/s"));
            for (int k = 0; k < pids.Length; k++)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  server {pids[k]}: {CpuSeconds(pids[k]) - cpuBefore[k]:0.0} CPU s in {wall:0.0} s ({(CpuSeconds(pids[k]) - cpuBefore[k]) / wall:0.00} cores)"));

            var checkpoints = new[] { 100, 200, 300, 400, parse.GetValue(total) }.Where(c => c <= parse.GetValue(total)).Distinct();
            foreach (int target in checkpoints)
            {
                while (done < target)
                    await Task.WhenAll(Enumerable.Range(0, Math.Min(n, target - done)).Select(_ => One()));
                output.WriteLine($"server memory after {done} predictions: {Memory()}");
            }
            return 0;
        });
        return command;
    }

    /// <summary>User plus system CPU time of a process so far, from /proc (clock ticks of 1/100 s on Linux).</summary>
    private static double CpuSeconds(int pid)
    {
        string path = $"/proc/{pid}/stat";
        if (!File.Exists(path)) return double.NaN;
        string stat = File.ReadAllText(path);
        // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields overall.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }
}
