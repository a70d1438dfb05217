using System.Text.Json;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Screening;
using DrWeb.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Processing;

namespace DrWeb.Tests.Server.Screening;

/// <summary>The quality gate in screening: ungradable images get no grade unless the doctor overrides, which is recorded.</summary>
public class QualityGateScreeningTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    private ScreeningService Screening => factory.Services.GetRequiredService<ScreeningService>();

    private static byte[] BlurredRawPhotograph()
    {
        using var image = Image.Load(Path.Combine(SharedData.FundusRawImages, "17_left.jpeg"));
        image.Mutate(x => x.Resize(image.Width / 2, image.Height / 2).GaussianBlur(12));
        using var ms = new MemoryStream();
        image.SaveAsJpeg(ms);
        return ms.ToArray();
    }

    private async Task<int> CasesAsync()
    {
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<DrWebDbContext>>().CreateDbContextAsync();
        return await db.Cases.CountAsync();
    }

    [Fact]
    public async Task A_raw_camera_photograph_is_graded_with_its_quality_verdict()
    {
        _ = factory.Server;
        var outcome = await Screening.ScreenAsync(new ScreeningUpload("59_left.jpeg", File.ReadAllBytes(Path.Combine(SharedData.FundusRawImages, "59_left.jpeg"))) { UploadedBy = "doctor@drweb.test" });
        Assert.True(outcome.Succeeded, outcome.Error);
        Assert.Equal("Good", outcome.Case!.QualityVerdict);
        Assert.False(outcome.Case.QualityOverridden);
    }

    [Fact]
    public async Task A_blurred_photograph_gets_no_grade_and_no_row_until_the_doctor_grades_it_anyway()
    {
        _ = factory.Server;
        byte[] blurred = BlurredRawPhotograph();
        int before = await CasesAsync();

        var refused = await Screening.ScreenAsync(new ScreeningUpload("blurred.jpeg", blurred) { UploadedBy = "doctor@drweb.test" });

        Assert.True(refused.Ungradable);
        Assert.Contains("Blurred", refused.Error);
        Assert.Equal(before, await CasesAsync());

        var overridden = await Screening.ScreenAsync(new ScreeningUpload("blurred.jpeg", blurred, GradeAnyway: true) { UploadedBy = "doctor@drweb.test" });
        Assert.True(overridden.Succeeded, overridden.Error);
        Assert.Equal("Ungradable", overridden.Case!.QualityVerdict);
        Assert.True(overridden.Case.QualityOverridden);
        Assert.Contains("Blurred", overridden.Case.QualityReasons);
        Assert.Equal(before + 1, await CasesAsync());
    }

    [Trait("Category", "Slow")]
    [Fact]
    public async Task The_api_reports_the_verdict_and_takes_the_override()
    {
        using var client = factory.ApiClient((await factory.ApiTokenAsync(AccountSetup.Admin)).Secret);

        MultipartFormDataContent Form(bool anyway)
        {
            var form = new MultipartFormDataContent { { new ByteArrayContent(BlurredRawPhotograph()), "image", "blurred.jpeg" } };
            if (anyway) form.Add(new StringContent("true"), "gradeAnyway");
            return form;
        }
        var refused = await client.PostAsync("/api/screenings", Form(false));
        Assert.Equal(422, (int)refused.StatusCode);
        var refusedItem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("results")[0];
        Assert.Equal("Ungradable", refusedItem.GetProperty("qualityVerdict").GetString());

        var graded = await client.PostAsync("/api/screenings", Form(true));
        Assert.True(graded.IsSuccessStatusCode, await graded.Content.ReadAsStringAsync());
        var item = JsonDocument.Parse(await graded.Content.ReadAsStringAsync()).RootElement.GetProperty("results")[0];
        Assert.True(item.GetProperty("qualityOverridden").GetBoolean());
        Assert.InRange(item.GetProperty("grade").GetInt32(), 0, 4);
    }
}
