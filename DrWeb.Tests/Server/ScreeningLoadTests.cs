using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DrWeb.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using DrWeb.Server.Accounts;
using DrWeb.Server.Screening;
using DrWeb.Server.Platform;

namespace DrWeb.Tests.Server;

/// <summary>The pixel budget on its own: reservations wait their turn and return what they took.</summary>
public class PixelBudgetTests
{
    [Fact]
    public async Task Reservations_that_do_not_fit_wait_in_order_and_proceed_when_pixels_are_returned()
    {
        var budget = new PixelBudget(100);
        var first = await budget.ReserveAsync(60);
        var second = budget.ReserveAsync(60);
        var third = budget.ReserveAsync(10);
        await Task.Delay(50);
        // The small third one does not jump the queue ahead of the second.
        Assert.False(second.IsCompleted);
        Assert.False(third.IsCompleted);
        first.Dispose();
        using (await second)
        using (await third)
            Assert.Equal(70, budget.InUse);
        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public async Task A_cancelled_wait_leaves_the_queue_and_an_image_larger_than_the_budget_runs_alone()
    {
        var budget = new PixelBudget(100);
        var held = await budget.ReserveAsync(100);
        using var cancel = new CancellationTokenSource();
        var waiting = budget.ReserveAsync(5, cancel.Token);
        var huge = budget.ReserveAsync(1_000);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        held.Dispose();
        using (await huge)
            Assert.Equal(100, budget.InUse);
        held.Dispose(); // returning twice returns once
        Assert.Equal(0, budget.InUse);
    }
}

/// <summary>A server that may hold one upload at a time (one grading, no queue).</summary>
public sealed class OneUploadAtATimeFactory : IDisposable
{
    public DrWebFactory Factory { get; } = new();

    public OneUploadAtATimeFactory()
    {
        Factory.Settings["DrWeb:Screening:Concurrency"] = "1";
        Factory.Settings["DrWeb:Screening:MaxQueue"] = "0";
        Factory.Settings["DrWeb:Screening:BusyRetryAfterSeconds"] = "7";
    }

    public void Dispose() => Factory.Dispose();
}

public class ScreeningLoadTests(OneUploadAtATimeFactory fixture) : IClassFixture<OneUploadAtATimeFactory>
{
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

/// <summary>The trim under load runs only above its threshold, and at most once a second.</summary>
public class BusyTrimTests
{
    private static IdleMemoryTrim Trim(int aboveMegabytes) => new(
        Microsoft.Extensions.Options.Options.Create(new DrWeb.Server.Platform.DrWebOptions { Screening = { TrimAboveMegabytes = aboveMegabytes } }),
        Microsoft.Extensions.Logging.Abstractions.NullLogger<IdleMemoryTrim>.Instance);

    [Fact]
    public void Above_the_threshold_a_grading_trims_at_most_once_a_second_and_below_it_or_switched_off_never()
    {
        var above = Trim(1); // this process is above 1 MB
        above.AfterWork();
        above.AfterWork();
        Assert.Equal(1, above.BusyTrims);

        var below = Trim(1_000_000);
        below.AfterWork();
        Assert.Equal(0, below.BusyTrims);

        var off = Trim(0);
        off.AfterWork();
        Assert.Equal(0, off.BusyTrims);
    }
}
