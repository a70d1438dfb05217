using Microsoft.Playwright;

namespace DrWeb.Tests.Browser;

/// <summary>Debian's Chromium (installed by scripts/test.sh) as every browser test launches it, and the sign-in they share.</summary>
public static class Chromium
{
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = "/usr/bin/chromium",
        Headless = true,
        Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });

    /// <summary>On the login page that <paramref name="path"/> redirected to, signs in as the seeded admin and waits for the circuit.</summary>
    public static async Task SignInAsync(IPage page, ServerProcess server, string path)
    {
        await page.FillAsync("input[name='Input.Email']", ServerProcess.AdminEmail);
        await page.FillAsync("input[name='Input.Password']", ServerProcess.AdminPassword);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(server.Url + path, new PageWaitForURLOptions { WaitUntil = WaitUntilState.NetworkIdle });
        // Uploads and clicks are handled by the interactive circuit; wait until Blazor has started it.
        await page.WaitForFunctionAsync("() => window.Blazor !== undefined");
        await page.WaitForTimeoutAsync(1000);
    }
}
