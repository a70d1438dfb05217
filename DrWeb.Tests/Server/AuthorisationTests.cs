using System.Net;
using DrWeb.Tests.Support;
using DrWeb.Server.Accounts;

namespace DrWeb.Tests.Server;

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

public class FirstRunTests
{
    [Fact]
    public async Task With_no_users_the_first_visitor_creates_the_administrator_and_can_sign_in()
    {
        using var factory = new DrWebFactory();
        factory.Settings["DrWeb:Admin:Email"] = "";
        factory.Settings["DrWeb:Admin:Password"] = "";
        using var client = factory.CreateClient();
        Assert.Contains("Create the first administrator", await client.GetStringAsync("/account/login"));

        async Task<HttpResponseMessage> Setup(string password)
        {
            string token = DrWebFactory.FormToken(await client.GetStringAsync("/account/setup"));
            return await client.PostAsync("/account/setup", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["_handler"] = "setup", ["__RequestVerificationToken"] = token,
                ["Input.Email"] = "first@drweb.test", ["Input.Password"] = password,
            }));
        }

        // A short password gets the app's own sentence, not the framework's; a common one is refused with its reason.
        string tooShort = await (await Setup("short")).Content.ReadAsStringAsync();
        Assert.Contains("needs at least 10 characters", tooShort);
        Assert.DoesNotContain("must be a string or array type", tooShort);
        Assert.Contains("list of the most common passwords", System.Net.WebUtility.HtmlDecode(await (await Setup("password123")).Content.ReadAsStringAsync()));

        var created = await Setup("a-long-enough-password");
        Assert.Contains("Administrator created", await created.Content.ReadAsStringAsync());
        var signedIn = await DrWebFactory.SignInAsync(client, "first@drweb.test", "a-long-enough-password");
        Assert.Equal("/", signedIn.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/training")).StatusCode);
    }
}
