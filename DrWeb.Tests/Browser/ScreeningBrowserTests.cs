using DrWeb.Tests.Support;
using Microsoft.Playwright;

namespace DrWeb.Tests.Browser;

/// <summary>A doctor's upload in real Chromium (Debian's, installed by scripts/test.sh) against the real server.</summary>
[Trait("Category", "Browser")]
public sealed class ScreeningBrowserTests : IAsyncLifetime
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
    public async Task A_doctor_uploads_a_camera_photograph_and_sees_grade_probabilities_what_the_model_saw_and_overlay_then_a_bad_file_and_its_message()
    {
        var page = await _browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1400 } });
        await page.GotoAsync(_server.Url + "/screening");
        Assert.Contains("/account/login", page.Url);
        await Chromium.SignInAsync(page, _server, "/screening");

        // A camera original, as doctors upload them (the smallest of the raw set keeps the test quick).
        await page.Locator("input[type=file]").First.SetInputFilesAsync(Path.Combine(SharedData.FundusRawImages, "320_left.jpeg"));
        var grade = page.Locator("[data-testid=grade]");
        await grade.WaitForAsync(new LocatorWaitForOptions { Timeout = 90_000 });
        Assert.Matches(@"Grade [0-4]: ", await grade.InnerTextAsync());
        Assert.Equal(5, await page.Locator("[data-testid=probability]").CountAsync());
        Assert.True(await page.Locator("img[alt='Grad-CAM overlay']").IsVisibleAsync());
        Assert.True(await page.Locator("[data-testid=original-view] img").IsVisibleAsync());
        Assert.True(await page.Locator("[data-testid=model-view] img").IsVisibleAsync());
        Assert.Contains("What the model saw:", await page.Locator("[data-testid=model-view] figcaption").InnerTextAsync());
        Assert.Contains("image quality: Good", await page.Locator("[data-testid=quality]").InnerTextAsync());
        Assert.Contains("demonstration model", await page.ContentAsync());
        // The file is named once, on its result card, not again on a chip that would name only the last of several.
        Assert.Equal(0, await page.Locator(".mud-chip", new() { HasText = "320_left.jpeg" }).CountAsync());

        string shots = Path.Combine(SharedData.RepoRoot, "artifacts", "screenshots");
        Directory.CreateDirectory(shots);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "screening-result.png"), FullPage = true });

        using var tmp = SharedData.TempFolder();
        File.WriteAllText(tmp.File("notes.jpeg"), "these are notes, not a photograph");
        await page.Locator("input[type=file]").First.SetInputFilesAsync(tmp.File("notes.jpeg"));
        var error = page.Locator("[data-testid=upload-error]");
        await error.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        Assert.Contains("is not an image", await error.InnerTextAsync());

        // A 1x1 image gets its message, and the page takes the next upload instead of hanging.
        using (var dot = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(1, 1))
            await SixLabors.ImageSharp.ImageExtensions.SaveAsPngAsync(dot, tmp.File("dot.png"));
        await page.Locator("input[type=file]").First.SetInputFilesAsync(tmp.File("dot.png"));
        await page.Locator("[data-testid=upload-error]", new() { HasText = "1x1" }).WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        await page.Locator("input[type=file]").First.SetInputFilesAsync(Path.Combine(SharedData.FundusRawImages, "320_left.jpeg"));
        await grade.WaitForAsync(new LocatorWaitForOptions { Timeout = 90_000 });

        // Uploads from the page record their uploader, shown to an admin in the history.
        await page.GotoAsync(_server.Url + "/screening/history");
        var history = page.Locator("[data-testid=history] tr", new() { HasText = "320_left.jpeg" }).First;
        await history.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        Assert.Contains(ServerProcess.AdminEmail, await history.InnerTextAsync());
    }

    [BrowserFact]
    public async Task An_admin_imports_and_activates_an_ensemble_and_a_doctor_screens_with_it_getting_one_grade_and_one_heatmap()
    {
        using var tmp = SharedData.TempFolder();
        string ensemble = EnsembleFolders.Ensemble(tmp.Path, 31, 32);

        var page = await _browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1400 } });
        await page.GotoAsync(_server.Url + "/admin/models");
        await Chromium.SignInAsync(page, _server, "/admin/models");
        await page.Locator("input[type=file]").First.SetInputFilesAsync(Directory.GetFiles(ensemble));
        await page.GetByRole(AriaRole.Button, new() { Name = "Import model" }).ClickAsync();
        var message = page.Locator("[data-testid=registry-message]");
        await message.WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        Assert.Contains("Imported", await message.InnerTextAsync());
        var row = page.Locator("[data-testid=versions] tr", new() { HasText = "ensemble of 2" });
        // On a laptop-sized window the Activate button is on screen, not cut off to the right.
        await page.SetViewportSizeAsync(1366, 768);
        var box = await row.Locator("[data-testid=activate]").BoundingBoxAsync();
        Assert.True(box is not null && box.X + box.Width <= 1366, $"Activate is at x {box?.X} (+{box?.Width}) on a 1366 px window");
        await row.Locator("[data-testid=activate]").ClickAsync();
        await row.Locator("[data-testid=active]").WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });

        await page.GotoAsync(_server.Url + "/screening");
        await page.WaitForFunctionAsync("() => window.Blazor !== undefined");
        await page.WaitForTimeoutAsync(1000);
        await page.Locator("input[type=file]").First.SetInputFilesAsync(SharedData.FundusDevImage());
        var grade = page.Locator("[data-testid=grade]");
        await grade.WaitForAsync(new LocatorWaitForOptions { Timeout = 90_000 });
        Assert.Matches(@"Grade [0-4]: ", await grade.InnerTextAsync());
        Assert.Equal(5, await page.Locator("[data-testid=probability]").CountAsync());
        Assert.Equal(1, await page.Locator("img[alt='Grad-CAM overlay']").CountAsync());
        Assert.Contains("ensemble test model", await page.ContentAsync());
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _server.DisposeAsync();
    }
}
