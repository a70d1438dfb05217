using System.Net.Http.Json;
using System.Text.Json;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Server.Screening;
using DrWeb.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Platform;

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
