using System.Security.Claims;
using DrWeb.Server.Accounts;
using DrWeb.Server.Components;
using DrWeb.Server.Exams;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Registry;
using DrWeb.Server.Screening;
using DrWeb.Server.Teaching;
using DrWeb.Server.Training;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor.Services;

namespace DrWeb.Server.Hosting;

public static class DrWebApplicationExtensions
{
    /// <summary>Where the app listens when no one said: ASPNETCORE_URLS, --urls, ASPNETCORE_HTTP_PORTS or Kestrel endpoints win.</summary>
    public const string DefaultUrl = "http://localhost:5149";

    /// <summary>Registers everything the web app needs.</summary>
    public static WebApplicationBuilder AddDrWeb(this WebApplicationBuilder builder)
    {
        // launchSettings.json names no URL on purpose: one there would silently override ASPNETCORE_URLS under `dotnet run`.
        var config = builder.Configuration;
        if (string.IsNullOrEmpty(config["urls"]) && string.IsNullOrEmpty(config["http_ports"]) && string.IsNullOrEmpty(config["https_ports"])
            && !config.GetSection("Kestrel:Endpoints").GetChildren().Any())
            builder.WebHost.UseUrls(DefaultUrl);
        // Run from build output (not `dotnet publish`), the CSS and JS live in the projects' and packages' folders and
        // are found through the static web assets manifest, which ASP.NET Core reads on its own only in Development;
        // outside it every asset would answer 200 with 0 bytes. A published app has no such manifest: no-op there.
        if (File.Exists(Path.Combine(AppContext.BaseDirectory, $"{builder.Environment.ApplicationName}.staticwebassets.runtime.json")))
            builder.WebHost.UseStaticWebAssets();
        builder.Services.Configure<DrWebOptions>(builder.Configuration.GetSection(DrWebOptions.Section));
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMudServices();
        builder.Services.AddSingleton<TorchStartup>();
        builder.Services.AddSingleton<DataFolder>();
        builder.Services.AddSingleton<NodeIdentity>();
        builder.Services.AddDrWebDatabase(builder.Configuration);
        builder.Services.AddSingleton<IdleMemoryTrim>();
        IdleMemoryTrim.LimitNativeHeaps();
        // ImageSharp's default pool may retain a large share of the machine's memory after a burst; a small pool
        // costs little speed for images decoded once each.
        SixLabors.ImageSharp.Configuration.Default.MemoryAllocator = SixLabors.ImageSharp.Memory.MemoryAllocator.Create(
            new SixLabors.ImageSharp.Memory.MemoryAllocatorOptions { MaximumPoolSizeMegabytes = 64 });
        builder.Services.AddSingleton<DisplayImages>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TorchStartup>());
        builder.Services.AddAccounts(builder.Environment);
        builder.Services.AddRegistry();
        builder.Services.AddScreening();
        builder.Services.AddExams();
        builder.Services.AddTeaching();
        builder.Services.AddTraining();
        builder.Services.AddDrWebRateLimits();
        builder.Services.AddDrWebJobs(builder.Configuration);
        builder.Services.AddDrWebHealthChecks();
        builder.Services.AddDrWebTelemetry(builder.Configuration);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter());
            o.SerializerOptions.NumberHandling |= System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals;
        });
        return builder;
    }

    /// <summary>The request pipeline and endpoints.</summary>
    public static WebApplication MapDrWeb(this WebApplication app)
    {
        PrepareDatabase(app.Services);
        app.UseNodeLogScope();
        app.UseSecurityHeaders();
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/Error", createScopeForErrors: true);
            app.UseHsts();
            app.UseHttpsRedirection();
        }
        app.UseStatusCodePagesWithReExecute("/status/{0}", createScopeForStatusCodePages: true);
        // Inside the page's status handling, so that API errors are answered as JSON before it would render HTML.
        app.UseApiProblems();
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        // A node without the web role (a training box) serves no pages and no API, only its health.
        if (app.Services.GetRequiredService<NodeIdentity>().Has(NodeIdentity.Web))
        {
            app.MapStaticAssets();
            app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
            app.MapAccounts();
            app.MapScreening();
            app.MapExams();
            app.MapTraining();
            app.MapTeaching();
            app.MapRegistry();
            app.MapDrWebJobs();
        }
        app.MapDrWebHealth();
        return app;
    }

    /// <summary>Applies migrations (unless a separate <c>migrate</c> step does), then names the active model and the seeded admin.</summary>
    private static void PrepareDatabase(IServiceProvider services)
    {
        if (services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DrWebOptions>>().Value.Database.MigrateAtStartup)
        {
            using var db = services.GetRequiredService<IDbContextFactory<DrWebDbContext>>().CreateDbContext();
            DrWebDatabase.Migrate(db);
        }
        services.GetRequiredService<ModelRegistry>().Start();
        AccountsFeature.EnsureRolesAndSeededAdmin(services);
    }
}
