using Microsoft.AspNetCore.Components.Authorization;

namespace DrWeb.Server.Shared;

public static class SignedInUser
{
    /// <summary>The signed-in user's name (their e-mail), or an empty string on a page nobody is signed in to.</summary>
    public static async Task<string> UserNameAsync(this AuthenticationStateProvider auth) =>
        (await auth.GetAuthenticationStateAsync()).User.Identity?.Name ?? "";
}
