using System.Security.Claims;
using DrWeb.Server.Platform.Database;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Accounts;

/// <summary>
/// The authentication state of a live page (a Blazor circuit), checked against the account every
/// <see cref="SessionPolicy.CircuitRevalidationInterval"/>: a deleted, demoted or locked user's open page loses
/// its user and goes to the sign-in page, instead of going on showing cases until the tab is closed.
/// </summary>
public sealed class RevalidatingIdentityStateProvider(ILoggerFactory loggerFactory, IServiceScopeFactory scopes, IOptions<IdentityOptions> identity)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => SessionPolicy.CircuitRevalidationInterval;

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState state, CancellationToken token)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<DrWebUser>>();
        return await IsCurrentAsync(users, state.User);
    }

    private async Task<bool> IsCurrentAsync(UserManager<DrWebUser> users, ClaimsPrincipal principal)
    {
        if (principal.Identity?.IsAuthenticated != true) return true;
        if (await users.GetUserAsync(principal) is not { } user) return false;
        if (await users.IsLockedOutAsync(user)) return false;
        if (!users.SupportsUserSecurityStamp) return true;
        string? claimed = principal.FindFirstValue(identity.Value.ClaimsIdentity.SecurityStampClaimType);
        return claimed == await users.GetSecurityStampAsync(user);
    }
}
