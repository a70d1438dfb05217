using Microsoft.Playwright;

namespace DrWeb.Tests.Support;

/// <summary>Debian's Chromium (installed by scripts/test.sh) as every browser test launches it, and the sign-in they share.</summary>
public static class Chromium
{
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>Why browser tests cannot run here, or null when they can.</summary>
    public static string? Unavailable =>
        Environment.GetEnvironmentVariable("DRWEB_BROWSER_UNAVAILABLE") is { Length: > 0 } reason ? reason
        : File.Exists(ExecutablePath) ? null
        : $"Chromium is not installed at {ExecutablePath}; scripts/test.sh installs Debian's chromium (needs root and the Debian mirror).";

    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = ExecutablePath,
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

    /// <summary>
    /// Waits for an element to be shown; if it never is, fails with the page's address and text and a screenshot in
    /// artifacts/screenshots, so that a failure on CI says what the page showed instead.
    /// </summary>
    public static async Task<ILocator> ShownAsync(IPage page, string selector, float timeoutMs = 60_000)
    {
        var locator = page.Locator(selector).First;
        try
        {
            await locator.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible, Timeout = timeoutMs });
            return locator;
        }
        catch (TimeoutException)
        {
            string shots = Path.Combine(Support.SharedData.RepoRoot, "artifacts", "screenshots");
            Directory.CreateDirectory(shots);
            string shot = Path.Combine(shots, $"missing-{DateTime.UtcNow:HHmmss}.png");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
            string text = await page.InnerTextAsync("body");
            throw new TimeoutException($"'{selector}' was not shown within {timeoutMs / 1000:0} s on {page.Url} (screenshot {shot}). The page said: {text[..Math.Min(text.Length, 1500)]}");
        }
    }
}
