using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Screening;
using DrWeb.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SixLabors.ImageSharp;

namespace DrWeb.Tests.Server.Screening;

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
        // The referral is the threshold stored with the grading, on P(referable), not the most likely grade.
        Assert.Equal(p.Probabilities[2] + p.Probabilities[3] + p.Probabilities[4], p.ReferableProbability, 3);
        Assert.NotNull(p.ReferralThreshold);
        Assert.Equal(p.ReferableProbability >= p.ReferralThreshold, p.Referable);
        Assert.Contains("demonstration model, not for clinical use", p.ModelVersion);
        Assert.Equal("layer4", p.CamLayer);
        Assert.Equal(["queued", "grading"], stages.Select(s => s.Stage));
        Assert.False(first.SeenBefore);

        var store = Services.GetRequiredService<IImageStore>();
        Assert.Equal(bytes, store.Read(first.Case!.ImageHash));
        // On the model's square view for a cropping model, on the 256 px photograph for a whole-frame one.
        var overlay = Image.Identify(store.Read(p.OverlayHash));
        Assert.Equal(p.HeatmapOnModelView ? (ShippedModel.InputSize, ShippedModel.InputSize) : (256, 256), (overlay.Width, overlay.Height));

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
