using System.Net.Http.Json;
using System.Text.Json;
using DrWeb.Server.Accounts;
using DrWeb.Server.Screening;
using DrWeb.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Screening;

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
