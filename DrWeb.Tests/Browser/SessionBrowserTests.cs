using DrWeb.Tests.Support;
using Microsoft.Playwright;

namespace DrWeb.Tests.Browser;

/// <summary>An open page loses its user when an admin takes the access away.</summary>
[Trait("Category", "Browser")]
public sealed class SessionBrowserTests : IAsyncLifetime
{
    private ServerProcess _server = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerProcess.StartAsync();
        _playwright = await Playwright.CreateAsync();
        _browser = await Chromium.LaunchAsync(_playwright);
    }

    [BrowserFact]
    public async Task A_doctors_open_history_page_goes_to_the_sign_in_page_when_an_admin_locks_the_account()
    {
        string email = $"doctor-{Guid.NewGuid():N}@drweb.test";
        const string password = "a-doctor-password";

        // The admin adds a doctor on the Users page.
        var admin = await (await _browser.NewContextAsync()).NewPageAsync();
        await admin.GotoAsync(_server.Url + "/admin/users");
        await Chromium.SignInAsync(admin, _server, "/admin/users");
        await admin.GetByLabel("E-mail").FillAsync(email);
        await admin.GetByLabel("Initial password (10+ characters)").FillAsync(password);
        // New users are Doctors unless other roles are chosen.
        await admin.GetByRole(AriaRole.Button, new() { Name = "Add user" }).ClickAsync();
        var row = admin.Locator("[data-testid=users] tr", new() { HasText = email });
        await row.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });

        // The doctor, in another browser session, opens the history page.
        var doctor = await (await _browser.NewContextAsync()).NewPageAsync();
        await doctor.GotoAsync(_server.Url + "/screening/history");
        await doctor.FillAsync("input[name='Input.Email']", email);
        await doctor.FillAsync("input[name='Input.Password']", password);
        await doctor.ClickAsync("button[type=submit]");
        await doctor.WaitForURLAsync(_server.Url + "/screening/history", new PageWaitForURLOptions { WaitUntil = WaitUntilState.NetworkIdle });
        await doctor.WaitForFunctionAsync("() => window.Blazor !== undefined");

        // The admin locks the account; the open page follows within the circuit's revalidation interval (10 s).
        await row.Locator("[data-testid=lock]").ClickAsync();
        await admin.Locator("[data-testid=users-message]", new() { HasText = "locked" }).WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        await doctor.WaitForURLAsync(url => url.Contains("/account/login"), new PageWaitForURLOptions { Timeout = 40_000 });
        Assert.Contains("/account/login", doctor.Url);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _server.DisposeAsync();
    }
}
