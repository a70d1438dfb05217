using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Screening;

/// <summary>On SQLite and PostgreSQL alike: two doctors' cases under Screening:CaseVisibility = own (the default), and what the audit log records of it.</summary>
public class CaseScopingTests(ProviderHosts hosts) : IClassFixture<ProviderHosts>
{
    private DrWebFactory _host = null!;

    private void On(DatabaseProvider provider) => _host = hosts[provider];

    internal static MultipartFormDataContent Upload(string fileName, byte[] bytes, string patientId)
    {
        var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } }, "images", fileName);
        form.Add(new StringContent(patientId), "patientId");
        return form;
    }

    internal static async Task<(Guid CaseId, string Json)> ScreenAsync(HttpClient client, string fileName, string patientId)
    {
        var response = await client.PostAsync("/api/screenings", Upload(fileName, File.ReadAllBytes(SharedData.FundusDevImage(fileName)), patientId));
        string json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, json);
        return (JsonDocument.Parse(json).RootElement.GetProperty("results")[0].GetProperty("caseId").GetGuid(), json);
    }

    private async Task<List<AuditEntry>> AuditAsync(string action)
    {
        var (entries, _) = await _host.Services.GetRequiredService<AuditLog>().ListAsync(new AuditFilter(action, Take: 1000));
        return entries;
    }

    [Theory, SqliteData, PostgresData]
    public async Task A_doctor_sees_only_their_own_cases_and_images_while_an_admin_sees_all_and_is_audited(DatabaseProvider provider)
    {
        On(provider);
        var (emailA, secretA, _) = await _host.ApiUserAsync(AccountSetup.Doctor);
        var (_, secretB, _) = await _host.ApiUserAsync(AccountSetup.Doctor);
        using var doctorA = _host.ApiClient(secretA);
        using var doctorB = _host.ApiClient(secretB);
        var (caseA, _) = await ScreenAsync(doctorA, "10007_left.jpeg", "PATIENT-OF-A");

        await using (var db = await _host.Services.GetRequiredService<IDbContextFactory<DrWebDbContext>>().CreateDbContextAsync())
            Assert.Equal(emailA, (await db.Cases.SingleAsync(c => c.Id == caseA)).UploadedBy);

        Assert.Equal(HttpStatusCode.OK, (await doctorA.GetAsync($"/api/screenings/{caseA}")).StatusCode);
        foreach (string path in new[] { "", "/overlay", "/original", "/model-view" })
        {
            var refused = await doctorB.GetAsync($"/api/screenings/{caseA}{path}");
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }
        Assert.DoesNotContain(await AuditAsync(AuditAction.CaseViewed), v => v.Subject == caseA.ToString());

        // The same photograph from doctor B is a new case of B's, and "seen before" does not reveal A's.
        var (caseB, jsonB) = await ScreenAsync(doctorB, "10007_left.jpeg", "PATIENT-OF-B");
        Assert.NotEqual(caseA, caseB);
        Assert.False(JsonDocument.Parse(jsonB).RootElement.GetProperty("results")[0].GetProperty("seenBefore").GetBoolean());

        // Pages: doctor B's history lists B's patient and not A's; A's case page says there is no such case.
        using var pageB = _host.CreateClient();
        await DrWebFactory.SignInAsync(pageB, (await UserOfTokenAsync(secretB))!, DrWebFactory.Password);
        string history = await pageB.GetStringAsync("/screening/history");
        Assert.Contains("PATIENT-OF-B", history);
        Assert.DoesNotContain("PATIENT-OF-A", history);
        Assert.Contains("no case with this id that you may see", await pageB.GetStringAsync($"/screening/case/{caseA}"));

        // The admin sees both, with the uploader, and opening A's case is audited.
        using var admin = await _host.SignedInClientAsync();
        string adminHistory = await admin.GetStringAsync("/screening/history");
        Assert.Contains("PATIENT-OF-A", adminHistory);
        Assert.Contains(emailA, adminHistory);
        Assert.Contains("PATIENT-OF-A", await admin.GetStringAsync($"/screening/case/{caseA}"));
        var viewed = (await AuditAsync(AuditAction.CaseViewed)).Where(v => v.Subject == caseA.ToString()).ToList();
        var entry = Assert.Single(viewed);
        Assert.Equal(DrWebFactory.AdminEmail, entry.Actor);
        Assert.Contains(emailA, entry.Detail);
    }

    [Theory, SqliteData, PostgresData]
    public async Task The_gallery_media_endpoint_serves_no_screening_original(DatabaseProvider provider)
    {
        On(provider);
        var (secret, _) = await _host.ApiTokenAsync(AccountSetup.Doctor);
        using var doctor = _host.ApiClient(secret);
        await ScreenAsync(doctor, "10013_left.jpeg", "P-MEDIA");
        string hash = IImageStore.HashOf(File.ReadAllBytes(SharedData.FundusDevImage("10013_left.jpeg")));
        Assert.True(_host.Services.GetRequiredService<IImageStore>().Contains(hash));

        using var educator = await _host.SignedInClientAsync(AccountSetup.Educator);
        Assert.Equal(HttpStatusCode.NotFound, (await educator.GetAsync($"/gallery/media/{hash}")).StatusCode);
        using var admin = await _host.SignedInClientAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/gallery/media/{hash}")).StatusCode);
    }

    [Theory, SqliteData, PostgresData]
    public async Task A_retry_with_the_same_idempotency_key_returns_the_first_result_and_adds_no_case(DatabaseProvider provider)
    {
        On(provider);
        var (email, secret, _) = await _host.ApiUserAsync(AccountSetup.Doctor);
        using var doctor = _host.ApiClient(secret);
        byte[] photo = File.ReadAllBytes(SharedData.FundusDevImage("10030_right.jpeg"));
        string key = Guid.NewGuid().ToString();

        async Task<HttpResponseMessage> Send(byte[] bytes, string k)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/screenings") { Content = Upload("10030_right.jpeg", bytes, "P-IDEM") };
            request.Headers.Add("Idempotency-Key", k);
            return await doctor.SendAsync(request);
        }

        var first = await Send(photo, key);
        var retry = await Send(photo, key);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await retry.Content.ReadAsStringAsync());
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        await using (var db = await _host.Services.GetRequiredService<IDbContextFactory<DrWebDbContext>>().CreateDbContextAsync())
            Assert.Equal(1, await db.Cases.CountAsync(c => c.UploadedBy == email));

        // Another user's identical key is their own; a changed request under the same key is refused; a bad key too.
        var (otherSecret, _) = await _host.ApiTokenAsync(AccountSetup.Doctor);
        using var other = _host.ApiClient(otherSecret);
        var otherRequest = new HttpRequestMessage(HttpMethod.Post, "/api/screenings") { Content = Upload("10030_right.jpeg", photo, "P-IDEM") };
        otherRequest.Headers.Add("Idempotency-Key", key);
        Assert.False((await other.SendAsync(otherRequest)).Headers.Contains("Idempotent-Replayed"));

        byte[] changed = File.ReadAllBytes(SharedData.FundusDevImage("10007_left.jpeg"));
        var reused = await Send(changed, key);
        Assert.Equal((HttpStatusCode)422, reused.StatusCode);
        Assert.Contains("different request", (await reused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        var bad = await Send(photo, new string('x', 200));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("Idempotency-Key", await bad.Content.ReadAsStringAsync());
    }

    private async Task<string?> UserOfTokenAsync(string secret)
    {
        string? id = await _host.Services.GetRequiredService<ApiTokenService>().ValidateAsync(secret);
        await using var db = await _host.Services.GetRequiredService<IDbContextFactory<DrWebDbContext>>().CreateDbContextAsync();
        return (await db.Users.SingleAsync(u => u.Id == id)).Email;
    }
}
