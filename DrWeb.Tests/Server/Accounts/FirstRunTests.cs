using DrWeb.Tests.Support;

namespace DrWeb.Tests.Server.Accounts;

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
