using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Claims;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Screening;
using DrWeb.Server.Teaching;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Cli;

/// <summary>
/// <c>bench-db</c>: the database under DrWeb's own queries, on SQLite or PostgreSQL. Fills an empty database with N
/// screening cases and an evaluation of N gallery cases, then times a page of the screening history, a page of the
/// gallery, its confusion matrix, and the insert of one screened case (a case and its prediction), as the app does them.
/// </summary>
internal static class DatabaseBenchCommand
{
    public static Command Create()
    {
        var provider = new Option<DatabaseProvider>("--provider") { Required = true, Description = "sqlite or postgres." };
        var connection = new Option<string>("--connection") { Required = true, Description = "Connection string of an empty database (SQLite: Data Source=FILE)." };
        var cases = new Option<int>("--cases") { DefaultValueFactory = _ => 10_000, Description = "Screening cases and gallery cases to fill in." };
        var repeats = new Option<int>("--repeats") { DefaultValueFactory = _ => 50, Description = "Timed repetitions of each query." };
        var command = new Command("bench-db", "Time the screening history, the gallery and a case insert on SQLite or PostgreSQL.") { provider, connection, cases, repeats };
        command.SetAction(async (parse, token) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var factory = DrWebDatabase.Factory(parse.GetValue(provider), parse.GetValue(connection)!);
            int n = parse.GetValue(cases), times = parse.GetValue(repeats);
            await using (var db = await factory.CreateDbContextAsync(token))
            {
                DrWebDatabase.Migrate(db);
                if (await db.Cases.AnyAsync(token) || await db.ModelVersions.AnyAsync(token))
                {
                    parse.InvocationConfiguration.Error.WriteLine("error: the database is not empty; bench-db fills it with test rows. Give it an empty one.");
                    return 2;
                }
            }
            var clock = Stopwatch.StartNew();
            Guid evaluationId = await FillAsync(factory, n, token);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{parse.GetValue(provider)}: filled {n} cases and {n} gallery cases in {clock.Elapsed.TotalSeconds:0.0} s"));

            var options = Options.Create(new DrWebOptions());
            var history = new CaseQueries(factory, options, new AuditLog(factory));
            var admin = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "bench@drweb.local"), new Claim(ClaimTypes.Role, AccountSetup.Admin)], "bench"));
            var gallery = new GalleryQueries(factory);
            await TimeAsync(output, "history page (50 newest of all)", times, () => history.ListAsync(new CaseFilter(), admin, token));
            await TimeAsync(output, "history page, referable only", times, () => history.ListAsync(new CaseFilter(Referable: true), admin, token));
            await TimeAsync(output, "gallery page (misclassified, most confident first)", times,
                () => gallery.PageAsync(evaluationId, new GalleryFilter(), 0, 24, token));
            await TimeAsync(output, "gallery confusion matrix", times, () => gallery.MatrixAsync(evaluationId, token));
            int inserted = 0;
            await TimeAsync(output, "insert one screened case (case + prediction)", times, async () =>
            {
                await using var db = await factory.CreateDbContextAsync(token);
                var c = NewCase(n + Interlocked.Increment(ref inserted));
                db.Cases.Add(c);
                await db.SaveChangesAsync(token);
                return c;
            });
            return 0;
        });
        return command;
    }

    private static async Task TimeAsync<T>(TextWriter output, string what, int times, Func<Task<T>> action)
    {
        await action();
        var ms = new List<double>();
        for (int i = 0; i < times; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await action();
            ms.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        ms.Sort();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {what,-52} median {ms[ms.Count / 2],7:0.00} ms, p95 {ms[(int)Math.Ceiling(0.95 * ms.Count) - 1],7:0.00} ms"));
    }

    private static async Task<Guid> FillAsync(IDbContextFactory<DrWebDbContext> factory, int n, CancellationToken token)
    {
        var random = new Random(1);
        var model = new ModelVersion
        {
            Name = "bench", Location = "models/bench", Source = ModelSource.Imported, Architecture = "resnet18", Head = "linear",
            TrainablePolicy = "head", Preprocessing = "resize", BaseWeights = "none", DataFingerprint = "bench",
        };
        var evaluation = new ModelEvaluation { ModelVersionId = model.Id, Name = "bench", DataFingerprint = "bench", Images = n, ReportJson = "{}" };
        await using (var db = await factory.CreateDbContextAsync(token))
        {
            db.ModelVersions.Add(model);
            db.ModelEvaluations.Add(evaluation);
            await db.SaveChangesAsync(token);
        }
        for (int start = 0; start < n; start += 1000)
        {
            await using var db = await factory.CreateDbContextAsync(token);
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            for (int i = start; i < Math.Min(n, start + 1000); i++)
            {
                db.Cases.Add(NewCase(i));
                int truth = random.Next(5), predicted = random.Next(100) < 60 ? truth : random.Next(5);
                var p = new float[5];
                p[predicted] = 0.4f + 0.5f * (float)random.NextDouble();
                for (int g = 0; g < 5; g++) if (g != predicted) p[g] = (1 - p[predicted]) / 4;
                db.EvaluationCases.Add(new EvaluationCase
                {
                    EvaluationId = evaluation.Id, ImageId = $"bench-{i}", ImageHash = Hash(i), PatientId = $"P{i / 2}", Eye = i % 2 == 0 ? "left" : "right",
                    TrueGrade = truth, PredictedGrade = predicted, P0 = p[0], P1 = p[1], P2 = p[2], P3 = p[3], P4 = p[4], Referred = predicted >= 2,
                    HeatmapPredictedHash = Hash(i + n), HeatmapTrueHash = Hash(i + 2 * n), CamLayer = "layer4",
                });
            }
            await db.SaveChangesAsync(token);
        }
        return evaluation.Id;
    }

    private static Case NewCase(int i)
    {
        var c = new Case
        {
            ImageHash = Hash(i), FileName = $"bench-{i}.jpeg", Format = "JPEG", Width = 512, Height = 512, PatientId = $"P{i / 2}",
            Eye = i % 2 == 0 ? "left" : "right", UploadedBy = "bench@drweb.local", QualityVerdict = "Good", QualityReasons = "",
            CreatedUtc = DateTimeOffset.UtcNow.AddMinutes(-i),
        };
        int grade = i % 5;
        c.Predictions.Add(new Prediction
        {
            Case = c, ModelVersion = "bench", P0 = grade == 0 ? 0.8f : 0.05f, P1 = grade == 1 ? 0.8f : 0.05f, P2 = grade == 2 ? 0.8f : 0.05f,
            P3 = grade == 3 ? 0.8f : 0.05f, P4 = grade == 4 ? 0.8f : 0.05f, Grade = grade, Referable = grade >= 2, ReferableProbability = grade >= 2 ? 0.9f : 0.1f,
            ReferableRule = "bench", CamLayer = "layer4", CamMethod = "gradcam", CamTarget = "predicted", OverlayHash = Hash(i + 3 * 1_000_000), DurationMs = 100,
            CreatedUtc = c.CreatedUtc,
        });
        return c;
    }

    private static string Hash(int i) => IImageStore.HashOf(BitConverter.GetBytes(i));
}
