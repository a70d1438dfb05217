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
        var url = new Option<string>("--url") { Required = true, Description = "Base URL of the running server." };
        var token = new Option<string>("--token") { Required = true, Description = "API token (see issue-token)." };
        var images = new Option<DirectoryInfo>("--images") { Required = true, Description = "Folder of fundus photographs to upload in turn." };
        var pid = new Option<int?>("--server-pid") { Description = "Process id of the server, to read its memory from /proc." };
        var latencyRequests = new Option<int>("--latency-requests") { DefaultValueFactory = _ => 50 };
        var users = new Option<int>("--users") { DefaultValueFactory = _ => 4 };
        var total = new Option<int>("--total") { Description = "Predictions to reach for the memory check.", DefaultValueFactory = _ => 500 };
        var command = new Command("bench-api", "Benchmark a running server through the screening API.") { url, token, images, pid, latencyRequests, users, total };
        command.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var files = parse.GetValue(images)!.EnumerateFiles("*.jp*g").OrderBy(f => f.Name).Take(40).Select(f => (f.Name, Bytes: File.ReadAllBytes(f.FullName))).ToArray();
            using var http = new HttpClient { BaseAddress = new Uri(parse.GetValue(url)!), Timeout = TimeSpan.FromMinutes(5) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", parse.GetValue(token));
            int done = 0;
            async Task<double> One()
            {
                var (name, bytes) = files[Interlocked.Increment(ref done) % files.Length];
                using var form = new MultipartFormDataContent { { new ByteArrayContent(bytes), "images", name } };
                long start = Stopwatch.GetTimestamp();
                using var response = await http.PostAsync("/api/screenings", form, ct);
                response.EnsureSuccessStatusCode();
                return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
            string Memory() => parse.GetValue(pid) is { } p && File.Exists($"/proc/{p}/status")
                ? File.ReadLines($"/proc/{p}/status").First(l => l.StartsWith("VmRSS")).Split(':')[1].Trim()
                : "n/a (no --server-pid)";

            output.WriteLine($"images: {files.Length} from {parse.GetValue(images)!.FullName}");
            while (done < 10) await One();
            output.WriteLine($"server memory after {done} predictions: {Memory()}");

            var latencies = new List<double>();
            for (int i = 0; i < parse.GetValue(latencyRequests); i++) latencies.Add(await One());
            latencies.Sort();
            double P(double q) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"upload-to-result latency, one user, {latencies.Count} requests: p50 {P(0.5):0} ms, p95 {P(0.95):0} ms, max {latencies[^1]:0} ms"));

            int n = parse.GetValue(users);
            var clock = Stopwatch.StartNew();
            int before = done;
            await Task.WhenAll(Enumerable.Range(0, n).Select(async _ => { for (int i = 0; i < 10; i++) await One(); }));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"throughput, {n} concurrent users x 10 requests: {(done - before) / clock.Elapsed.TotalSeconds:0.00} images/s"));

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
}
