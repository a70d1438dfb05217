using DrWeb.Server.Platform.Database;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Identity;

namespace DrWeb.Server.Accounts;

public static class AccountEndpoints
{
    /// <summary>Sign-out is a POST with an antiforgery token, never a link a page could trigger.</summary>
    public static void MapAccountEndpoints(this WebApplication app)
    {
        app.MapPost("/account/logout", async (HttpContext http, IAntiforgery antiforgery, SignInManager<DrWebUser> signIn) =>
        {
            // A minimal endpoint without form parameters is not checked by the antiforgery middleware on its own.
            if (!await antiforgery.IsRequestValidAsync(http))
                return Results.Problem(statusCode: 400, title: "Sign-out refused",
                    detail: "The sign-out form was not sent by DrWeb's page (its antiforgery token is missing or expired). Reload the page and sign out again.");
            await signIn.SignOutAsync();
            return Results.LocalRedirect("~/account/login");
        }).RequireAuthorization();
    }
}
