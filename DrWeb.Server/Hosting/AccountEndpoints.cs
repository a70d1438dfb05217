using DrWeb.Server.Data;
using Microsoft.AspNetCore.Identity;

namespace DrWeb.Server.Hosting;

public static class AccountEndpoints
{
    /// <summary>Sign-out is a POST with an antiforgery token, never a link a page could trigger.</summary>
    public static void MapAccountEndpoints(this WebApplication app)
    {
        app.MapPost("/account/logout", async (SignInManager<DrWebUser> signIn) =>
        {
            await signIn.SignOutAsync();
            return Results.LocalRedirect("~/account/login");
        }).RequireAuthorization();
    }
}
