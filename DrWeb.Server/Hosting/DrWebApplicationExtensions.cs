using DrWeb.Server.Components;
using DrWeb.Server.Services;
using MudBlazor.Services;

namespace DrWeb.Server.Hosting;

public static class DrWebApplicationExtensions
{
    /// <summary>Registers everything the web app needs.</summary>
    public static WebApplicationBuilder AddDrWeb(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<DrWebOptions>(builder.Configuration.GetSection(DrWebOptions.Section));
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMudServices();
        builder.Services.AddSingleton<ModelEngine>();
        builder.Services.AddSingleton<StarterModel>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ModelEngine>());
        return builder;
    }

    /// <summary>The request pipeline and endpoints.</summary>
    public static WebApplication MapDrWeb(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/Error", createScopeForErrors: true);
            app.UseHsts();
        }
        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
