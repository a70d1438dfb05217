using DrWeb.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SixLabors.ImageSharp;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Screening;
using DrWeb.Server.Platform;

namespace DrWeb.Tests.Server;

/// <summary>Screening through the real services (starter model, SQLite, image store) on real fundus photographs.</summary>
public class ScreeningServiceTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    private ScreeningService Service => Services.GetRequiredService<ScreeningService>();

    private IServiceProvider Services
    {
        get
        {
            _ = factory.Server; // builds the host: migrations run, data folder exists
            return factory.Services;
        }
    }

    private async Task<(int Cases, int Files)> Stored()
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<DrWebDbContext>>().CreateDbContextAsync();
        int files = Directory.Exists(Path.Combine(factory.DataFolder, "images"))
            ? Directory.EnumerateFiles(Path.Combine(factory.DataFolder, "images"), "*", SearchOption.AllDirectories).Count()
            : 0;
        return (await db.Cases.CountAsync(), files);
    }

    [Fact]
    public async Task A_real_photograph_is_graded_stored_and_recognised_when_uploaded_again()
    {
        byte[] bytes = File.ReadAllBytes(SharedData.FundusDevImage("10013_left.jpeg"));
        var stages = new List<ScreeningProgress>();
        var first = await Service.ScreenAsync(new ScreeningUpload("10013_left.jpeg", bytes, "P-1", "left", 2) { UploadedBy = "doctor@drweb.test" }, new SyncProgress(stages));

        Assert.True(first.Succeeded, first.Error);
        var p = first.Prediction!;
        Assert.Equal(1.0, p.Probabilities.Sum(), 3);
        Assert.Equal(Array.IndexOf(p.Probabilities, p.Probabilities.Max()), p.Grade);
        Assert.Equal(p.Grade >= 2, p.Referable);
        Assert.Contains("demonstration model, not for clinical use", p.ModelVersion);
        Assert.Equal("layer4", p.CamLayer);
        Assert.Equal(["queued", "grading"], stages.Select(s => s.Stage));
        Assert.False(first.SeenBefore);

        var store = Services.GetRequiredService<ImageStore>();
        Assert.Equal(bytes, store.Read(first.Case!.ImageHash));
        // On the 224 px view for a cropping model, on the 256 px photograph for a whole-frame one.
        var overlay = Image.Identify(store.Read(p.OverlayHash));
        Assert.Equal(p.HeatmapOnModelView ? (224, 224) : (256, 256), (overlay.Width, overlay.Height));

        var again = await Service.ScreenAsync(new ScreeningUpload("copy.jpeg", bytes) { UploadedBy = "doctor@drweb.test" });
        Assert.True(again.SeenBefore);
        Assert.Equal(first.Case.ImageHash, again.Case!.ImageHash);

        var uploader = TestUsers.Principal("doctor@drweb.test", AccountSetup.Doctor);
        var stored = await Services.GetRequiredService<CaseQueries>().OpenAsync(first.Case.Id, uploader, "test");
        Assert.Equal("P-1", stored!.PatientId);
        Assert.Equal(p.P3, stored.Predictions.Single().P3);
        var (list, total) = await Services.GetRequiredService<CaseQueries>().ListAsync(new CaseFilter(PatientId: "P-1"), uploader);
        Assert.Equal(1, total);
        Assert.Equal(first.Case.Id, list.Single().Id);
    }

    public static TheoryData<string, byte[], string> BadUploads => new()
    {
        { "notes.jpeg", "not an image"u8.ToArray(), "is not an image" },
        { "empty.jpeg", [], "is empty" },
        { "half.jpeg", File.ReadAllBytes(SharedData.FundusDevImage())[..4000], "is cut off" },
        { "../../etc/passwd.jpeg", File.ReadAllBytes(SharedData.FundusDevImage()), "path characters" },
        { "scan.gif", GifOf(SharedData.FundusDevImage()), "GIF" },
    };

    private static byte[] GifOf(string path)
    {
        using var image = Image.Load(path);
        using var ms = new MemoryStream();
        image.SaveAsGif(ms);
        return ms.ToArray();
    }

    [Theory]
    [MemberData(nameof(BadUploads))]
    public async Task A_bad_upload_gets_its_own_message_and_writes_nothing(string name, byte[] bytes, string expected)
    {
        var before = await Stored();
        var outcome = await Service.ScreenAsync(new ScreeningUpload(name, bytes) { UploadedBy = "doctor@drweb.test" });
        Assert.False(outcome.Succeeded);
        Assert.Contains(expected, outcome.Error);
        Assert.DoesNotContain("   at ", outcome.Error);
        Assert.Equal(before, await Stored());
    }

    [Fact]
    public async Task Invalid_optional_fields_are_refused()
    {
        byte[] bytes = File.ReadAllBytes(SharedData.FundusDevImage());
        Assert.Contains("left' or 'right", (await Service.ScreenAsync(new ScreeningUpload("a.jpeg", bytes, Eye: "both") { UploadedBy = "doctor@drweb.test" })).Error);
        Assert.Contains("0 to 4", (await Service.ScreenAsync(new ScreeningUpload("a.jpeg", bytes, DoctorGrade: 7) { UploadedBy = "doctor@drweb.test" })).Error);
    }

    private sealed class SyncProgress(List<ScreeningProgress> list) : IProgress<ScreeningProgress>
    {
        public void Report(ScreeningProgress value) => list.Add(value);
    }
}

public class ScreeningLimitsTests
{
    [Fact]
    public async Task Oversized_uploads_are_refused_on_the_server()
    {
        using var factory = new DrWebFactory();
        factory.Settings["DrWeb:Screening:MaxUploadBytes"] = "1000";
        _ = factory.Server;
        var service = factory.Services.GetRequiredService<ScreeningService>();
        var outcome = await service.ScreenAsync(new ScreeningUpload("big.jpeg", File.ReadAllBytes(SharedData.FundusDevImage())) { UploadedBy = "doctor@drweb.test" });
        Assert.Contains("above the", outcome.Error);
    }
}

public class ScreeningPagesTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    [Fact]
    public async Task Screening_page_offers_the_upload_and_names_the_model()
    {
        using var client = await factory.SignedInClientAsync(AccountSetup.Doctor);
        string html = await client.GetStringAsync("/screening");
        Assert.Contains("Drop fundus photographs here", html);
        Assert.Contains("demonstration model, not for clinical use", html);
        Assert.Contains("Patient id (optional)", html);
    }

    [Fact]
    public async Task A_stored_case_is_shown_again_from_the_database_and_listed_in_history()
    {
        using var client = await factory.SignedInClientAsync();
        var service = factory.Services.GetRequiredService<ScreeningService>();
        var outcome = await service.ScreenAsync(new ScreeningUpload("10017_left.jpeg",
            File.ReadAllBytes(SharedData.FundusDevImage("10017_left.jpeg")), "HIST-7", "left") { UploadedBy = DrWebFactory.AdminEmail });
        Assert.True(outcome.Succeeded, outcome.Error);

        string page = await client.GetStringAsync($"/screening/case/{outcome.Case!.Id}");
        Assert.Contains($"Grade {outcome.Prediction!.Grade}:", page);
        Assert.Equal(5, System.Text.RegularExpressions.Regex.Matches(page, "data-testid=\"probability\"").Count);
        Assert.Contains(outcome.Prediction.P0.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture), page);
        Assert.Contains("data:image/jpeg;base64,", page);
        Assert.Contains("Grad-CAM at layer4", page);

        string history = await client.GetStringAsync("/screening/history");
        Assert.Contains("HIST-7", history);
        Assert.Contains($"screening/case/{outcome.Case.Id}", history);

        string missing = await client.GetStringAsync($"/screening/case/{Guid.NewGuid()}");
        Assert.Contains("There is no case with this id", missing);
    }
}
