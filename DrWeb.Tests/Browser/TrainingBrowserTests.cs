using DrWeb.Tests.Support;
using Microsoft.Playwright;

namespace DrWeb.Tests.Browser;

/// <summary>An admin registers a dataset, starts a run and watches it progress, in real Chromium against the real server.</summary>
[Trait("Category", "Browser")]
public sealed class TrainingBrowserTests : IAsyncLifetime
{
    private readonly TempFolder _data = new();
    private ServerProcess _server = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        using (var images = new TinyFundusSet(perGrade: 10))
        {
            foreach (string file in Directory.GetFiles(images.Folder, "*", SearchOption.AllDirectories))
            {
                string target = Path.Combine(_data.Path, "datasets", "tiny", Path.GetRelativePath(images.Folder, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
        }
        _server = await ServerProcess.StartAsync(_data.Path);
        _playwright = await Playwright.CreateAsync();
        _browser = await Chromium.LaunchAsync(_playwright);
    }

    [BrowserFact]
    public async Task An_admin_registers_a_dataset_starts_a_run_watches_its_progress_and_cancels_it()
    {
        var page = await _browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1400 } });
        await page.GotoAsync(_server.Url + "/training");
        await Chromium.SignInAsync(page, _server, "/training");

        await page.Locator("input[data-testid=dataset-path], [data-testid=dataset-path] input").First.FillAsync(Path.Combine(_data.Path, "datasets", "tiny"));
        await page.ClickAsync("[data-testid=register-dataset]");
        var message = page.Locator("[data-testid=training-message]");
        await message.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        Assert.Contains("50 images", await message.InnerTextAsync());
        Assert.Contains("ImageGradeCsv", await page.Locator("[data-testid=dataset-report]").InnerTextAsync());

        await page.ClickAsync("[data-testid=new-run]");
        await page.WaitForURLAsync(_server.Url + "/training/new");
        await page.WaitForTimeoutAsync(500);
        await page.ClickAsync("[data-testid=start-run]");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/training/runs/"), new PageWaitForURLOptions { Timeout = 30_000 });

        // The page updates itself from the database: the phase reaches an epoch and the progress bar moves.
        await page.WaitForFunctionAsync("() => /training epoch|validating epoch/.test(document.querySelector('[data-testid=run-phase]')?.innerText ?? '')",
            null, new PageWaitForFunctionOptions { Timeout = 120_000 });
        await page.WaitForFunctionAsync("() => /step [1-9]/.test(document.body.innerText)", null, new PageWaitForFunctionOptions { Timeout = 60_000 });
        Assert.Equal("Running", (await page.Locator("[data-testid=run-status]").First.InnerTextAsync()).Trim());

        string shots = Path.Combine(SharedData.RepoRoot, "artifacts", "screenshots");
        Directory.CreateDirectory(shots);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "training-run.png"), FullPage = true });

        await page.ClickAsync("[data-testid=cancel-run]");
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=run-status]')?.innerText.trim() === 'Cancelled'",
            null, new PageWaitForFunctionOptions { Timeout = 60_000 });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _server.DisposeAsync();
        _data.Dispose();
    }
}
