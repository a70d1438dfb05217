using System.Net;
using DrWeb.Server.Accounts;
using DrWeb.Tests.Support;

namespace DrWeb.Tests.Server.Accounts;

public class RateLimitTests(LowRateLimitFactory fixture) : IClassFixture<LowRateLimitFactory>
{
    [Fact]
    public async Task Sign_in_attempts_and_api_requests_beyond_the_limit_get_429_with_retry_after()
    {
        var factory = fixture.Factory;
        _ = factory.Server;
        using var client = factory.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 4; i++)
            statuses.Add((await DrWebFactory.SignInAsync(client, "nobody@drweb.test", "a-wrong-password")).StatusCode);
        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, statuses.Take(3));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[3]);
        // Reading the sign-in page is not an attempt.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/account/login")).StatusCode);

        var (secret, _) = await factory.ApiTokenAsync(AccountSetup.Doctor);
        using var api = factory.ApiClient(secret);
        HttpResponseMessage last = null!;
        for (int i = 0; i < 6; i++) last = await api.GetAsync($"/api/screenings/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.TooManyRequests, last.StatusCode);
        Assert.True(int.Parse(last.Headers.GetValues("Retry-After").Single()) > 0);
        Assert.Equal("application/problem+json", last.Content.Headers.ContentType?.MediaType);
    }
}
