using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Server.Cli;

/// <summary>
/// <c>bench-burst</c>: sends N uploads to a running server at the same moment and follows the server's resident
/// memory (VmRSS, sampled every 50 ms): before, at its peak during the burst, and a while after. The upload is a given
/// photograph or a synthetic PNG of a given side, which compresses to almost nothing and decodes to side² x 3 bytes,
/// the pattern of a "pixel bomb".
/// </summary>
internal static class BurstBenchCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Required = true, Description = "Base URL of the running server." };
        var token = new Option<string>("--token") { Required = true, Description = "API token (see issue-token)." };
        var pid = new Option<int>("--server-pid") { Required = true, Description = "Process id of the server, to read its memory from /proc." };
        var image = new Option<FileInfo?>("--image") { Description = "Photograph to upload N times." };
        var synthetic = new Option<int>("--synthetic-side") { Description = "Without --image: a synthetic PNG this many pixels square.", DefaultValueFactory = _ => 7000 };
        var concurrent = new Option<int>("--concurrent") { DefaultValueFactory = _ => 16 };
        var settle = new Option<int>("--settle-seconds") { Description = "How long to follow memory after the burst.", DefaultValueFactory = _ => 60 };
        var command = new Command("bench-burst", "Send N uploads at once to a running server and report its peak and settled memory.")
            { url, token, pid, image, synthetic, concurrent, settle };
        command.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            int serverPid = parse.GetValue(pid);
            (string Name, byte[] Bytes) upload = parse.GetValue(image) is { } file
                ? (file.Name, await File.ReadAllBytesAsync(file.FullName, ct))
                : ($"synthetic-{parse.GetValue(synthetic)}.png", SyntheticPng(parse.GetValue(synthetic)));
            using var http = new HttpClient { BaseAddress = new Uri(parse.GetValue(url)!), Timeout = TimeSpan.FromMinutes(10) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", parse.GetValue(token));

            long before = RssKb(serverPid), peak = before;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    peak = Math.Max(peak, RssKb(serverPid));
                    try { await Task.Delay(50, sampling.Token); } catch (OperationCanceledException) { }
                }
            });
            int n = parse.GetValue(concurrent);
            var clock = Stopwatch.StartNew();
            var statuses = await Task.WhenAll(Enumerable.Range(0, n).Select(async _ =>
            {
                using var form = new MultipartFormDataContent { { new ByteArrayContent(upload.Bytes), "images", upload.Name } };
                using var response = await http.PostAsync("/api/screenings", form, ct);
                return (int)response.StatusCode;
            }));
            double burstSeconds = clock.Elapsed.TotalSeconds;
            long afterBurst = RssKb(serverPid);
            await Task.Delay(TimeSpan.FromSeconds(parse.GetValue(settle)), ct);
            long settled = RssKb(serverPid);
            sampling.Cancel();
            await sampler;

            string counts = string.Join(", ", statuses.GroupBy(s => s).OrderBy(g => g.Key).Select(g => $"{g.Key} x{g.Count()}"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{n} concurrent uploads of {upload.Name} ({upload.Bytes.Length / 1024.0:0} KB) in {burstSeconds:0.0} s; statuses: {counts}"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"server RSS: before {before / 1024.0:0} MB, peak {peak / 1024.0:0} MB, at the end of the burst {afterBurst / 1024.0:0} MB, " +
                $"{parse.GetValue(settle)} s later {settled / 1024.0:0} MB"));
            return 0;
        });
        return command;
    }

    private static long RssKb(int pid) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS", StringComparison.Ordinal))
            .Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);

    /// <summary>A dark disc on black with a little texture: it passes for a photograph's shape and compresses well.</summary>
    private static byte[] SyntheticPng(int side)
    {
        using var image = new Image<Rgb24>(side, side);
        image.ProcessPixelRows(rows =>
        {
            double c = side / 2.0, r2 = side * side * 0.2;
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                    if ((x - c) * (x - c) + (y - c) * (y - c) < r2)
                        row[x] = new Rgb24((byte)(120 + (x >> 6) % 8), (byte)(60 + (y >> 6) % 8), 30);
            }
        });
        using var ms = new MemoryStream();
        image.SaveAsPng(ms);
        return ms.ToArray();
    }
}
