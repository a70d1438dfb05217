using System.Net;
using DrWeb.Tests.Support;
using DrWeb.Server.Accounts;
using DrWeb.Server.Hosting;

namespace DrWeb.Tests.Server;

/// <summary>A factory of its own, with low limits, so that other tests' sign-ins do not count.</summary>
public sealed class LowRateLimitFactory : IDisposable
{
    public LowRateLimitFactory()
    {
        Factory = new DrWebFactory();
        Factory.Settings["DrWeb:RateLimits:SignInPerMinute"] = "3";
        Factory.Settings["DrWeb:RateLimits:ApiPerMinute"] = "5";
    }

    public DrWebFactory Factory { get; }
    public void Dispose() => Factory.Dispose();
}

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
