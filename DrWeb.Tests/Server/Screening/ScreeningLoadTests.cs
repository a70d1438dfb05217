using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DrWeb.Server.Accounts;
using DrWeb.Server.Screening;
using DrWeb.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Screening;

public class ScreeningLoadTests(OneUploadAtATimeFactory fixture) : IClassFixture<OneUploadAtATimeFactory>
{
    [Trait("Category", "Slow")]
    [Fact]
    public async Task Uploads_beyond_the_queue_are_refused_with_503_and_Retry_After_before_decoding_and_store_nothing()
    {
        var factory = fixture.Factory;
        var (secret, _) = await factory.ApiTokenAsync(AccountSetup.Doctor);
        using var client = factory.ApiClient(secret);
        var budget = factory.Services.GetRequiredService<PixelBudget>();
        var screening = factory.Services.GetRequiredService<ScreeningService>();
        byte[] photo = File.ReadAllBytes(SharedData.FundusDevImage("10030_right.jpeg"));

        Task<HttpResponseMessage> first;
        using (await budget.ReserveAsync(budget.Capacity))
        {
            // With no pixels to decode into, the first upload is admitted and waits, not yet decoded.
            first = client.PostAsync("/api/screenings", CaseScopingTests.Upload("10030_right.jpeg", photo, "LOAD-1"));
            for (int i = 0; i < 400 && screening.Admitted == 0; i++) await Task.Delay(25);
            Assert.Equal(1, screening.Admitted);

            var refused = await client.PostAsync("/api/screenings", CaseScopingTests.Upload("10030_right.jpeg", photo, "LOAD-2"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("7", refused.Headers.GetValues("Retry-After").Single());
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Contains("send the request again in 7 s", problem.GetProperty("detail").GetString());
            Assert.Contains("busy", problem.GetProperty("results")[0].GetProperty("error").GetString());
            Assert.False(first.IsCompleted);
        }
        var graded = await first;
        Assert.Equal(HttpStatusCode.OK, graded.StatusCode);
        Assert.Equal(0, screening.Admitted);
        Assert.Equal(0, budget.InUse);
    }
}
