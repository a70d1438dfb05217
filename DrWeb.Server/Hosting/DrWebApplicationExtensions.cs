using DrWeb.Server.Components;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using System.Security.Claims;
using Microsoft.Extensions.Logging.Abstractions;
using DrWeb.Server.Data;
using Microsoft.EntityFrameworkCore;
using DrWeb.Server.Services;
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
        builder.Services.AddSingleton<ModelEngine>();
        builder.Services.AddSingleton<StarterModel>();
        builder.Services.AddSingleton<DataFolder>();
        builder.Services.AddDbContextFactory<DrWebDbContext>((sp, db) =>
            db.UseSqlite($"Data Source={sp.GetRequiredService<DataFolder>().DatabasePath}"));
        builder.Services.AddSingleton<ImageStore>();
        builder.Services.AddSingleton<ActiveModel>();
        builder.Services.AddSingleton<ModelRegistry>();
        builder.Services.AddSingleton(sp => new PixelBudget(
            Math.Max(1, sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<DrWebOptions>>().Value.Screening.DecodeBudgetMegapixels) * 1_000_000L));
        builder.Services.AddSingleton<IdleMemoryTrim>();
        IdleMemoryTrim.LimitNativeHeaps();
        builder.Services.AddSingleton<ScreeningService>();
        // ImageSharp's default pool may retain a large share of the machine's memory after a burst; a small pool
        // costs little speed for images decoded once each.
        SixLabors.ImageSharp.Configuration.Default.MemoryAllocator = SixLabors.ImageSharp.Memory.MemoryAllocator.Create(
            new SixLabors.ImageSharp.Memory.MemoryAllocatorOptions { MaximumPoolSizeMegabytes = 64 });
        builder.Services.AddSingleton<CaseQueries>();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddSingleton<IdempotentRequests>();
        builder.Services.AddSingleton<DisplayImages>();
        builder.Services.AddSingleton<GalleryQueries>();
        builder.Services.AddSingleton<Lessons>();
        builder.Services.AddSingleton<LessonExport>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ModelEngine>());
        AddAccounts(builder.Services, builder.Environment);
        builder.Services.AddDrWebRateLimits();
        builder.Services.AddDrWebJobs(builder.Configuration);
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
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        app.MapAccountEndpoints();
        app.MapScreeningApi();
        app.MapTrainingApi();
        app.MapGalleryEndpoints();
        app.MapDrWebJobs();
        return app;
    }

    /// <summary>Applies migrations and switches SQLite to WAL, so screening and background work do not block each other.</summary>
    private static void PrepareDatabase(IServiceProvider services)
    {
        using (var db = services.GetRequiredService<IDbContextFactory<DrWebDbContext>>().CreateDbContext())
        {
            db.Database.Migrate();
            db.Database.ExecuteSqlRaw("PRAGMA journal_mode=WAL;");
        }
        services.GetRequiredService<ModelRegistry>().Start();
        using var scope = services.CreateScope();
        scope.ServiceProvider.GetRequiredService<AccountSetup>().EnsureRolesAndSeededAdminAsync().GetAwaiter().GetResult();
    }

    /// <summary>Identity on the app's database, cookie sign-in, the three roles, and keys kept in the data folder.</summary>
    private static void AddAccounts(IServiceCollection services, IHostEnvironment environment)
    {
        services.AddCascadingAuthenticationState();
        services.AddScoped<Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider, RevalidatingIdentityStateProvider>();
        services.AddSingleton<SessionRevocations>();
        services.TryAddSingleton(TimeProvider.System);
        // Identity's default is 30 minutes, during which a deleted or demoted user keeps the cookie's access.
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = SessionPolicy.StampValidationInterval);
        services.AddAuthentication(IdentityConstants.ApplicationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthentication>(ApiTokenAuthentication.Scheme, null);
        services.AddAuthentication().AddIdentityCookies();
        services.AddProblemDetails();
        services.AddSingleton<ApiTokenService>();
        services.ConfigureApplicationCookie(o =>
        {
            o.LoginPath = "/account/login";
            o.AccessDeniedPath = "/account/denied";
            o.Cookie.Name = "DrWeb.Auth";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            // Outside Development the cookie travels over HTTPS only (behind a TLS proxy the browser still sees HTTPS).
            o.Cookie.SecurePolicy = environment.IsDevelopment() ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
            o.ExpireTimeSpan = SessionPolicy.CookieLifetime;
            // Access taken away on this server ends the session at its next request; the stamp check covers the rest.
            o.Events.OnValidatePrincipal = async ctx =>
            {
                string? userId = ctx.Principal?.FindFirstValue(ClaimTypes.NameIdentifier);
                string? stamp = ctx.Principal?.FindFirstValue(ctx.HttpContext.RequestServices
                    .GetRequiredService<Microsoft.Extensions.Options.IOptions<IdentityOptions>>().Value.ClaimsIdentity.SecurityStampClaimType);
                if (userId is not null && ctx.HttpContext.RequestServices.GetRequiredService<SessionRevocations>().IsRevoked(userId, stamp))
                {
                    ctx.RejectPrincipal();
                    await ctx.HttpContext.SignOutAsync(IdentityConstants.ApplicationScheme);
                    return;
                }
                await SecurityStampValidator.ValidatePrincipalAsync(ctx);
            };
            // A signed-in user without the role gets a real 403 (shown by the status page), not a redirect.
            o.Events.OnRedirectToAccessDenied = ctx =>
            {
                ctx.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            };
        });
        services.AddIdentityCore<DrWebUser>(o =>
            {
                o.Password.RequiredLength = 10;
                // Length over composition rules (NIST SP 800-63B): a long passphrase is enough.
                o.Password.RequireNonAlphanumeric = false;
                o.Password.RequireDigit = false;
                o.Password.RequireUppercase = false;
                o.Password.RequireLowercase = false;
                o.User.RequireUniqueEmail = true;
            })
            .AddRoles<IdentityRole>()
            .AddPasswordValidator<DrWeb.Server.Services.Passwords.CommonPasswordValidator>()
            .AddEntityFrameworkStores<DrWebDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();
        services.AddAuthorization(ScreeningApi.AddScreeningApiPolicy);
        services.AddAuthorization(TrainingApi.AddTrainingApiPolicy);
        services.AddScoped<AccountSetup>();
        services.AddScoped<UserAdministration>();
        services.AddScoped<PasswordSignIn>();
        services.AddSingleton<SignInLockout>();
        // Sign-in cookies must survive a restart: keep the data-protection keys in the data folder.
        services.AddOptions<KeyManagementOptions>().Configure<DataFolder>((o, data) =>
            o.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(data.Sub("keys")), NullLoggerFactory.Instance));
    }
}
