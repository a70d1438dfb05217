using DrWeb.Server.Components;
using DrWeb.Server.Data;
using Microsoft.EntityFrameworkCore;
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
        builder.Services.AddSingleton<DataFolder>();
        builder.Services.AddDbContextFactory<DrWebDbContext>((sp, db) =>
            db.UseSqlite($"Data Source={sp.GetRequiredService<DataFolder>().DatabasePath}"));
        builder.Services.AddSingleton<ImageStore>();
        builder.Services.AddSingleton<ActiveModel>();
        builder.Services.AddSingleton<ScreeningService>();
        builder.Services.AddSingleton<CaseQueries>();
        builder.Services.AddSingleton<DisplayImages>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ModelEngine>());
        return builder;
    }

    /// <summary>The request pipeline and endpoints.</summary>
    public static WebApplication MapDrWeb(this WebApplication app)
    {
        PrepareDatabase(app.Services);
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

    /// <summary>Applies migrations and switches SQLite to WAL, so screening and background work do not block each other.</summary>
    private static void PrepareDatabase(IServiceProvider services)
    {
        using var db = services.GetRequiredService<IDbContextFactory<DrWebDbContext>>().CreateDbContext();
        db.Database.Migrate();
        db.Database.ExecuteSqlRaw("PRAGMA journal_mode=WAL;");
    }
}
