using DrWeb.Server.Platform;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Screening;

/// <summary>Screening: uploads admitted and graded, cases and their history, the screening API.</summary>
public static class ScreeningFeature
{
    public static IServiceCollection AddScreening(this IServiceCollection services)
    {
        services.AddSingleton(sp => new PixelBudget(
            Math.Max(1, sp.GetRequiredService<IOptions<DrWebOptions>>().Value.Screening.DecodeBudgetMegapixels) * 1_000_000L));
        services.AddSingleton<ScreeningService>();
        services.AddSingleton<CaseQueries>();
        services.AddSingleton<CaseExplanations>();
        services.AddSingleton<IdempotentRequests>();
        services.AddAuthorization(ScreeningApi.AddScreeningApiPolicy);
        return services;
    }

    public static WebApplication MapScreening(this WebApplication app)
    {
        var screening = app.Services.GetRequiredService<ScreeningService>();
        app.Services.GetRequiredService<DrWebMetrics>().ObserveQueueDepth(() => screening.Admitted);
        app.MapScreeningApi();
        return app;
    }
}
