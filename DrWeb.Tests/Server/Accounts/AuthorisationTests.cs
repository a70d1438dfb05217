using System.Net;
using DrWeb.Server.Accounts;
using DrWeb.Tests.Support;

namespace DrWeb.Tests.Server.Accounts;

public class AuthorisationTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    [Theory]
    [InlineData("/")]
    [InlineData("/screening")]
    [InlineData("/training")]
    public async Task Anonymous_users_are_sent_to_sign_in(string path)
    {
        using var client = factory.CreateClient();
        var response = await client.GetAsync(path);
        Assert.Equal("/account/login", response.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Contains("Sign in", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(AccountSetup.Doctor, "/training", HttpStatusCode.Forbidden)]
    [InlineData(AccountSetup.Doctor, "/gallery", HttpStatusCode.Forbidden)]
    [InlineData(AccountSetup.Doctor, "/screening", HttpStatusCode.OK)]
    [InlineData(AccountSetup.Educator, "/screening", HttpStatusCode.Forbidden)]
    [InlineData(AccountSetup.Educator, "/gallery", HttpStatusCode.OK)]
    [InlineData(AccountSetup.Admin, "/training", HttpStatusCode.OK)]
    [InlineData(AccountSetup.Admin, "/screening/history", HttpStatusCode.OK)]
    public async Task Pages_are_authorised_by_role(string role, string path, HttpStatusCode expected)
    {
        using var client = await factory.SignedInClientAsync(role);
        var response = await client.GetAsync(path);
        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Forbidden)
            Assert.Contains("No access", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_menu_shows_only_what_the_role_may_use()
    {
        using var client = await factory.SignedInClientAsync(AccountSetup.Educator);
        string html = await client.GetStringAsync("/");
        Assert.Contains("href=\"gallery\"", html);
        Assert.DoesNotContain("href=\"screening\"", html);
        Assert.DoesNotContain("href=\"training\"", html);
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_a_message()
    {
        using var client = factory.CreateClient();
        var response = await DrWebFactory.SignInAsync(client, DrWebFactory.AdminEmail, "not-the-password");
        Assert.Contains("E-mail or password is wrong", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_first_run_page_is_closed_once_an_administrator_exists()
    {
        using var client = factory.CreateClient();
        Assert.Contains("An administrator already exists", await client.GetStringAsync("/account/setup"));
    }
}
