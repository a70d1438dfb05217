using System.Security.Claims;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Abstractions;

namespace DrWeb.Server.Accounts;

/// <summary>Accounts: Identity on the app's database, cookie and API-token sign-in, the three roles, lockouts, audit.</summary>
public static class AccountsFeature
{
    /// <summary>Identity on the app's database, cookie sign-in, the three roles, and keys kept in the data folder.</summary>
    public static IServiceCollection AddAccounts(this IServiceCollection services, IHostEnvironment environment)
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
            .AddPasswordValidator<CommonPasswordValidator>()
            .AddEntityFrameworkStores<DrWebDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();
        services.AddScoped<AccountSetup>();
        services.AddScoped<UserAdministration>();
        services.AddScoped<PasswordSignIn>();
        services.AddSingleton<SignInLockout>();
        // Sign-in cookies and antiforgery tokens must survive a restart and be valid on every node: the keys live in
        // the database, under one application name whatever folder a node runs from.
        services.AddDataProtection()
            .SetApplicationName("DrWeb")
            .PersistKeysToDbContext<DrWebDbContext>();
        services.AddSingleton<AuditLog>();
        return services;
    }

    public static WebApplication MapAccounts(this WebApplication app)
    {
        app.MapAccountEndpoints();
        return app;
    }

    /// <summary>The three roles exist, and the administrator named in configuration (if any) has an account.</summary>
    public static void EnsureRolesAndSeededAdmin(IServiceProvider services)
    {
        using var scope = services.CreateScope();
        scope.ServiceProvider.GetRequiredService<AccountSetup>().EnsureRolesAndSeededAdminAsync().GetAwaiter().GetResult();
    }
}
