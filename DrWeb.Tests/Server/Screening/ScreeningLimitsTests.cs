using DrWeb.Server.Accounts;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Screening;
using DrWeb.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Screening;

public class ScreeningLimitsTests
{
    [Fact]
    public async Task Oversized_uploads_are_refused_on_the_server()
    {
        using var factory = new DrWebFactory();
        factory.Settings["DrWeb:Screening:MaxUploadBytes"] = "1000";
        _ = factory.Server;
        var service = factory.Services.GetRequiredService<ScreeningService>();
        var outcome = await service.ScreenAsync(new ScreeningUpload("big.jpeg", File.ReadAllBytes(SharedData.FundusDevImage())) { UploadedBy = "doctor@drweb.test" });
        Assert.Contains("above the", outcome.Error);
    }
}
