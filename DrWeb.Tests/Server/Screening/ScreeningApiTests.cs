using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform.Database;
using DrWeb.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using SixLabors.ImageSharp;

namespace DrWeb.Tests.Server.Screening;

/// <summary>The screening API, run on SQLite and on PostgreSQL alike.</summary>
public class ScreeningApiTests(ProviderHosts hosts) : IClassFixture<ProviderHosts>
{
    private DrWebFactory _host = null!;

    private DrWebFactory On(DatabaseProvider provider) => _host = hosts[provider];

    private Task<(string Secret, Guid TokenId)> TokenFor(string role) => _host.ApiTokenAsync(role);

    private HttpClient Client(string? secret) => _host.ApiClient(secret);

    private static MultipartFormDataContent Upload(params (string Name, byte[] Bytes)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in files)
            form.Add(new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } }, "images", name);
        form.Add(new StringContent("API-1"), "patientId");
        form.Add(new StringContent("right"), "eye");
        return form;
    }

    [Theory, SqliteData, PostgresData]
    public async Task A_doctor_screens_through_the_api_and_fetches_the_case_and_overlay(DatabaseProvider provider)
    {
        On(provider);
        var (secret, _) = await TokenFor(AccountSetup.Doctor);
        using var client = Client(secret);
        byte[] photo = File.ReadAllBytes(SharedData.FundusDevImage("10030_right.jpeg"));
        var response = await client.PostAsync("/api/screenings", Upload(("10030_right.jpeg", photo), ("notes.jpeg", "notes"u8.ToArray())));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var results = json.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(2, results.Count);
        var good = results[0];
        var p = good.GetProperty("probabilities").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(5, p.Length);
        Assert.Equal(1.0, p.Sum(), 3);
        int grade = good.GetProperty("grade").GetInt32();
        Assert.Equal(Array.IndexOf(p, p.Max()), grade);
        // The referral is the shipped model's recorded threshold on P(referable), not its most likely grade.
        double pReferable = good.GetProperty("referableProbability").GetDouble();
        Assert.Equal(p[2] + p[3] + p[4], pReferable, 3);
        double threshold = DrWeb.Ml.Architectures.ModelDirectory.ReadManifest(ShippedModel.Folder).OperatingPoint!.Threshold;
        Assert.Equal(pReferable >= threshold, good.GetProperty("referable").GetBoolean());
        Assert.Contains($"{threshold:0.00}", good.GetProperty("referableRule").GetString());
        Assert.Contains("demonstration model", good.GetProperty("modelVersion").GetString());
        Assert.Contains("is not an image", results[1].GetProperty("error").GetString());

        string caseId = good.GetProperty("caseId").GetString()!;
        using var fetched = JsonDocument.Parse(await client.GetStringAsync($"/api/screenings/{caseId}"));
        Assert.Equal(grade, fetched.RootElement.GetProperty("grade").GetInt32());
        var overlay = await client.GetAsync(good.GetProperty("overlayUrl").GetString());
        Assert.Equal("image/png", overlay.Content.Headers.ContentType!.MediaType);
        Assert.Equal(good.GetProperty("heatmapOnModelView").GetBoolean() ? ShippedModel.InputSize : 256, Image.Identify(await overlay.Content.ReadAsByteArrayAsync()).Width);
    }

    [Theory, SqliteData, PostgresData]
    public async Task The_heatmap_method_and_target_are_chosen_by_name_stored_and_unknown_names_are_refused_with_the_list(DatabaseProvider provider)
    {
        On(provider);
        var (secret, _) = await TokenFor(AccountSetup.Doctor);
        using var client = Client(secret);
        byte[] photo = File.ReadAllBytes(SharedData.FundusDevImage("10030_right.jpeg"));
        using var chosen = Upload(("10030_right.jpeg", photo));
        chosen.Add(new StringContent("LayerCAM"), "camMethod");
        chosen.Add(new StringContent("referable"), "camTarget");
        var response = await client.PostAsync("/api/screenings", chosen);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var item = json.RootElement.GetProperty("results")[0];
        Assert.Equal("layercam", item.GetProperty("camMethod").GetString());
        Assert.Equal("referable", item.GetProperty("camTarget").GetString());
        using var fetched = JsonDocument.Parse(await client.GetStringAsync($"/api/screenings/{item.GetProperty("caseId").GetString()}"));
        Assert.Equal("layercam", fetched.RootElement.GetProperty("camMethod").GetString());

        int casesBefore = await CaseCountAsync();
        using var unknown = Upload(("10030_right.jpeg", photo));
        unknown.Add(new StringContent("fullgrad"), "camMethod");
        var refused = await client.PostAsync("/api/screenings", unknown);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        string body = await refused.Content.ReadAsStringAsync();
        Assert.Contains("fullgrad", body);
        Assert.Contains("is unknown; use one of gradcam, hirescam, gradcampp, xgradcam, layercam, eigencam, scorecam", body);
        Assert.Equal(casesBefore, await CaseCountAsync());
    }

    private async Task<int> CaseCountAsync()
    {
        await using var db = await _host.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<DrWeb.Server.Platform.Database.DrWebDbContext>>()
            .CreateDbContextAsync();
        return await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(db.Cases);
    }

    [Theory, SqliteData, PostgresData]
    public async Task Only_bad_files_give_a_422_problem(DatabaseProvider provider)
    {
        On(provider);
        var (secret, _) = await TokenFor(AccountSetup.Admin);
        using var client = Client(secret);
        var response = await client.PostAsync("/api/screenings", Upload(("empty.jpeg", [])));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("is empty", await response.Content.ReadAsStringAsync());
    }

    [Theory, SqliteData, PostgresData]
    public async Task Missing_unknown_revoked_and_wrong_role_tokens_are_refused(DatabaseProvider provider)
    {
        On(provider);
        using (var anonymous = Client(null))
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/screenings/{Guid.NewGuid()}")).StatusCode);
        using (var unknown = Client("drw_not-a-real-token"))
            Assert.Equal(HttpStatusCode.Unauthorized, (await unknown.GetAsync($"/api/screenings/{Guid.NewGuid()}")).StatusCode);

        var (educator, _) = await TokenFor(AccountSetup.Educator);
        using (var client = Client(educator))
        {
            var forbidden = await client.PostAsync("/api/screenings", Upload(("a.jpeg", File.ReadAllBytes(SharedData.FundusDevImage()))));
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
            Assert.Equal("application/problem+json", forbidden.Content.Headers.ContentType!.MediaType);
        }

        var (doctor, id) = await TokenFor(AccountSetup.Doctor);
        using var revoked = Client(doctor);
        Assert.Equal(HttpStatusCode.NotFound, (await revoked.GetAsync($"/api/screenings/{Guid.NewGuid()}")).StatusCode);
        Assert.True(await _host.Services.GetRequiredService<ApiTokenService>().RevokeAsync(DrWebFactory.AdminEmail, id));
        Assert.Equal(HttpStatusCode.Unauthorized, (await revoked.GetAsync($"/api/screenings/{Guid.NewGuid()}")).StatusCode);
    }

    [Theory, SqliteData, PostgresData]
    public async Task A_signed_in_browser_cookie_does_not_open_the_api(DatabaseProvider provider)
    {
        On(provider);
        using var client = await _host.SignedInClientAsync(AccountSetup.Admin);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync($"/api/screenings/{Guid.NewGuid()}")).StatusCode);
    }

    [Theory, SqliteData, PostgresData]
    public async Task The_token_page_is_for_admins(DatabaseProvider provider)
    {
        On(provider);
        using var doctor = await _host.SignedInClientAsync(AccountSetup.Doctor);
        Assert.Equal(HttpStatusCode.Forbidden, (await doctor.GetAsync("/admin/tokens")).StatusCode);
        using var admin = await _host.SignedInClientAsync(AccountSetup.Admin);
        Assert.Contains("API tokens", await admin.GetStringAsync("/admin/tokens"));
    }
}
