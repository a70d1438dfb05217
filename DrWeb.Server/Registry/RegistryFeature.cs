namespace DrWeb.Server.Registry;

/// <summary>The model registry: versions, the one active model, imports, the operating point, the Models page.</summary>
public static class RegistryFeature
{
    public static IServiceCollection AddRegistry(this IServiceCollection services)
    {
        services.AddSingleton<StarterModel>();
        services.AddSingleton<ActiveModel>();
        services.AddSingleton<ModelRegistry>();
        services.AddSingleton<ModelImports>();
        services.AddSingleton<OperatingPoints>();
        services.AddSingleton<ExplanationStudies>();
        services.AddTransient<ExplanationStudyJob>();
        services.AddHostedService<ActivationFollower>();
        return services;
    }

    public static WebApplication MapRegistry(this WebApplication app)
    {
        var active = app.Services.GetRequiredService<ActiveModel>();
        app.Services.GetRequiredService<Platform.DrWebMetrics>().ObserveActiveModel(() => active.NamedVersion);
        app.MapRegistryApi();
        // An explanation study's figures, for admins, from the study's own folder only.
        app.MapGet("/admin/models/studies/{runId:guid}/figures/{file}", async (Guid runId, string file, ExplanationStudies studies, HttpContext http) =>
            await studies.FigurePathAsync(runId, file, http.RequestAborted) is { } path
                ? Results.File(path, "image/png")
                : Results.Problem(statusCode: 404, title: "No such figure", detail: "That study has no figure of that name."))
            .RequireAuthorization(p => p.RequireRole(Accounts.AccountSetup.Admin));
        return app;
    }
}
