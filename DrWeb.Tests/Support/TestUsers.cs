using System.Security.Claims;

namespace DrWeb.Tests.Support;

public static class TestUsers
{
    /// <summary>A signed-in user as the server's services see one: a name (the e-mail) and roles.</summary>
    public static ClaimsPrincipal Principal(string email, params string[] roles) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, email), .. roles.Select(r => new Claim(ClaimTypes.Role, r))], "test"));
}
