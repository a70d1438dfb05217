using DrWeb.Server.Accounts;
using DrWeb.Server.Screening;
using DrWeb.Server.Platform.Database;
using DrWeb.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Screening;

public class ScreeningPagesTests(ProviderHosts hosts) : IClassFixture<ProviderHosts>
{
    private DrWebFactory _host = null!;

    private void On(DatabaseProvider provider) => _host = hosts[provider];

    [Theory, SqliteData, PostgresData]
    public async Task Screening_page_offers_the_upload_and_names_the_model(DatabaseProvider provider)
    {
        On(provider);
        using var client = await _host.SignedInClientAsync(AccountSetup.Doctor);
        string html = await client.GetStringAsync("/screening");
        Assert.Contains("Drop fundus photographs here", html);
        Assert.Contains("demonstration model, not for clinical use", html);
        Assert.Contains("Patient id (optional)", html);
    }

    [Theory, SqliteData, PostgresData]
    public async Task A_stored_case_is_shown_again_from_the_database_and_listed_in_history(DatabaseProvider provider)
    {
        On(provider);
        using var client = await _host.SignedInClientAsync();
        var service = _host.Services.GetRequiredService<ScreeningService>();
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
