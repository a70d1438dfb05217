using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Screening;

public class SharedCaseVisibilityTests(SharedCaseVisibilityFactory fixture) : IClassFixture<SharedCaseVisibilityFactory>
{
    [Fact]
    public async Task Every_doctor_sees_every_case_when_the_practice_shares_its_patients()
    {
        var factory = fixture.Factory;
        var (secretA, _) = await factory.ApiTokenAsync(AccountSetup.Doctor);
        var (emailB, secretB, _) = await factory.ApiUserAsync(AccountSetup.Doctor);
        using var doctorA = factory.ApiClient(secretA);
        using var doctorB = factory.ApiClient(secretB);
        var (caseA, _) = await CaseScopingTests.ScreenAsync(doctorA, "10007_left.jpeg", "SHARED-A");

        Assert.Equal(HttpStatusCode.OK, (await doctorB.GetAsync($"/api/screenings/{caseA}/original")).StatusCode);
        var (entries, _) = await factory.Services.GetRequiredService<AuditLog>().ListAsync(new AuditFilter(AuditAction.CaseViewed, emailB));
        Assert.Contains(entries, e => e.Subject == caseA.ToString() && e.Detail!.Contains("original"));
    }
}
