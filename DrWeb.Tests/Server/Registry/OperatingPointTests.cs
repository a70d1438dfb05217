using System.Net;
using System.Text.Json;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Registry;
using DrWeb.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Registry;

/// <summary>The default model's recorded operating point: used by screening, moved by an admin, kept by stored gradings.</summary>
public class OperatingPointTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    private ModelRegistry Registry => factory.Services.GetRequiredService<ModelRegistry>();
    private OperatingPoints OperatingPoints => factory.Services.GetRequiredService<OperatingPoints>();

    private async Task<JsonElement> ScreenAsync(HttpClient client)
    {
        var response = await client.PostAsync("/api/screenings",
            new MultipartFormDataContent { { new ByteArrayContent(File.ReadAllBytes(SharedData.FundusDevImage())), "image", "10007_left.jpeg" } });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("results")[0].Clone();
    }

    private async Task<Prediction> StoredPredictionAsync(Guid caseId)
    {
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<DrWebDbContext>>().CreateDbContextAsync();
        return await db.Predictions.AsNoTracking().SingleAsync(p => p.CaseId == caseId);
    }

    [Fact]
    public async Task Screening_uses_the_recorded_threshold_an_admin_moves_it_and_stored_gradings_keep_theirs()
    {
        _ = factory.Server;
        var version = (await Registry.ListAsync()).Single(v => v.IsActive);
        var view = await OperatingPoints.OperatingPointAsync(version.Id);
        Assert.NotNull(view!.Current);
        Assert.NotEmpty(view.Manifest!.ValidationScores);
        double recorded = view.Current.Threshold;

        using var client = factory.ApiClient((await factory.ApiTokenAsync(AccountSetup.Doctor)).Secret);
        var first = await ScreenAsync(client);
        string firstRule = first.GetProperty("referableRule").GetString()!;
        Assert.StartsWith("P(referable) ", firstRule);
        Assert.Contains("set for sensitivity 0.87 on", firstRule);
        double p = first.GetProperty("referableProbability").GetDouble();
        Assert.Equal(p >= recorded, first.GetProperty("referable").GetBoolean());
        Guid firstCase = first.GetProperty("caseId").GetGuid();
        Assert.Equal(recorded, (await StoredPredictionAsync(firstCase)).ReferralThreshold);

        // A threshold that flips this photograph's decision.
        double moved = p >= recorded ? Math.Min(1, p + 0.01) : Math.Max(0, p - 0.01);
        var result = await OperatingPoints.SetOperatingPointAsync(version.Id, OperatingTarget.Threshold, moved, "admin@drweb.test");
        Assert.True(result.Succeeded, result.Message);
        var after = await OperatingPoints.OperatingPointAsync(version.Id);
        Assert.Equal(moved, after!.Current!.Threshold);
        var change = Assert.Single(after.History);
        Assert.Equal("admin@drweb.test", change.ChangedBy);
        Assert.Equal(recorded, change.PreviousThreshold);
        Assert.Equal(moved, change.Threshold);
        var (audited, _) = await factory.Services.GetRequiredService<AuditLog>().ListAsync(new AuditFilter(AuditAction.OperatingPointChanged));
        Assert.Contains(audited, e => e.Actor == "admin@drweb.test" && e.Subject == version.Name && e.Detail!.Contains("->"));

        var second = await ScreenAsync(client);
        Assert.NotEqual(first.GetProperty("referable").GetBoolean(), second.GetProperty("referable").GetBoolean());
        Assert.Contains("set by hand", second.GetProperty("referableRule").GetString());

        // The first grading keeps the threshold and rule it was made with, in the database and in the API.
        var stored = await StoredPredictionAsync(firstCase);
        Assert.Equal(recorded, stored.ReferralThreshold);
        Assert.Equal(firstRule, stored.ReferableRule);
        var again = JsonDocument.Parse(await client.GetStringAsync($"/api/screenings/{firstCase}")).RootElement;
        Assert.Contains(firstRule, again.GetRawText().Replace("\\u003E", ">").Replace("\\u003C", "<"));

        // A target no point meets is refused and changes nothing.
        var refused = await OperatingPoints.SetOperatingPointAsync(version.Id, OperatingTarget.Sensitivity, 1.5, "admin@drweb.test");
        Assert.False(refused.Succeeded);
        Assert.Equal(moved, (await OperatingPoints.OperatingPointAsync(version.Id))!.Current!.Threshold);

        // Back to the recorded target, so the model's documented rule is in force again.
        Assert.True((await OperatingPoints.SetOperatingPointAsync(version.Id, OperatingTarget.Sensitivity, OperatingPoint.DefaultSensitivity, "admin@drweb.test")).Succeeded);
        Assert.Equal(recorded, (await OperatingPoints.OperatingPointAsync(version.Id))!.Current!.Threshold);
    }

    [Fact]
    public async Task The_operating_point_page_shows_the_roc_for_admins_only()
    {
        _ = factory.Server;
        var version = (await Registry.ListAsync()).Single(v => v.IsActive);
        using var admin = await factory.SignedInClientAsync();
        string html = await admin.GetStringAsync($"/admin/models/{version.Id}/operating-point");
        Assert.Contains("data-testid=\"roc\"", html);
        Assert.Contains("data-testid=\"current-marker\"", html);
        Assert.Contains("set for sensitivity 0.87", html);
        Assert.Contains("data-testid=\"by-source\"", html);

        using var doctor = await factory.SignedInClientAsync(AccountSetup.Doctor);
        Assert.Equal(HttpStatusCode.Forbidden, (await doctor.GetAsync($"/admin/models/{version.Id}/operating-point")).StatusCode);
    }
}
