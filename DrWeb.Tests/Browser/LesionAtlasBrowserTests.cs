using DrWeb.Tests.Support;
using Microsoft.Playwright;

namespace DrWeb.Tests.Browser;

/// <summary>
/// The lesion atlas and explanation studies in real Chromium, with IDRiD's expert masks as the atlas and the default
/// model active: a case with masks, switching methods, toggling an outline kind, the numbers; a study from the Models page.
/// </summary>
[Trait("Category", "Browser")]
public sealed class LesionAtlasBrowserTests : IAsyncLifetime
{
    private readonly TempFolder _data = new();
    private ServerProcess _server = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    private static string Atlas => Path.Combine(SharedData.SharedRoot, "data", "idrid-lesions");

    public async Task InitializeAsync()
    {
        _server = await ServerProcess.StartAsync(_data.Path, new Dictionary<string, string> { ["DrWeb__Teaching__LesionAtlasFolder"] = Atlas });
        _playwright = await Playwright.CreateAsync();
        _browser = await Chromium.LaunchAsync(_playwright);
    }

    [BrowserFact]
    public async Task An_educator_opens_a_case_with_masks_switches_methods_toggles_an_outline_kind_and_reads_the_numbers()
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1400 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(_server.Url + "/gallery/lesions");
        await Chromium.SignInAsync(page, _server, "/gallery/lesions");
        Assert.Equal(81, await page.Locator("[data-testid=atlas-case]").CountAsync());

        await page.ClickAsync("text=IDRiD_01");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/gallery/lesions/IDRiD_01$"));
        var numbers = await Chromium.ShownAsync(page, "[data-testid=lesion-numbers]");
        string gradCam = await numbers.InnerTextAsync();
        Assert.Contains("Grad-CAM", gradCam);
        Assert.Matches(@"\d+\.\d% of the heatmap on lesions", gradCam);
        Assert.Matches("pointing game (hit|miss)", gradCam);
        // The region table's heatmap shares add up to the whole heatmap over the exclusive regions.
        var shares = await page.Locator("[data-testid=lesion-regions] tbody tr td:nth-child(2)").AllInnerTextsAsync();
        double exclusive = shares.Take(5).Sum(s => double.Parse(s.TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture));
        Assert.InRange(exclusive, 99.5, 100.5);

        // Switching the method recomputes the heatmap and its numbers.
        await page.WaitForTimeoutAsync(500);
        await page.ClickAsync("[data-testid=method-eigencam]");
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=lesion-numbers]')?.innerText.includes('EigenCAM')", null,
            new PageWaitForFunctionOptions { Timeout = 60_000 });
        Assert.NotEqual(gradCam, await page.InnerTextAsync("[data-testid=lesion-numbers]"));

        // Microaneurysm outlines are drawn until their kind is toggled off; the others stay.
        Assert.Equal(1, await page.Locator("[data-testid=outline-MA]").CountAsync());
        await page.Locator("input[data-testid=toggle-MA], [data-testid=toggle-MA] input").First.ClickAsync();
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=outline-MA]') === null");
        Assert.Equal(1, await page.Locator("[data-testid=outline-EX]").CountAsync());
        string shots = Path.Combine(SharedData.RepoRoot, "artifacts", "screenshots");
        Directory.CreateDirectory(shots);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "lesion-atlas-case.png"), FullPage = true });

        // Pinned to a lesson, the photograph is presented alone and its outlines appear when the educator reveals it.
        await page.Locator("input[data-testid=atlas-new-lesson], [data-testid=atlas-new-lesson] input").First.FillAsync("Where are the exudates?");
        await page.ClickAsync("[data-testid=atlas-pin]");
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=atlas-pin-message]')?.innerText === 'Pinned.'");
        await page.GotoAsync(_server.Url + "/gallery/lessons");
        await page.ClickAsync("text=Where are the exudates?");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/gallery/lessons/[0-9a-f-]+$"));
        await Chromium.ShownAsync(page, "[data-testid=atlas-item]");
        await page.GotoAsync(page.Url + "/present");
        await page.WaitForFunctionAsync("() => window.Blazor !== undefined");
        await Chromium.ShownAsync(page, "[data-testid=hidden]");
        Assert.Equal(0, await page.Locator(".atlas-stack img[alt='expert outlines']").CountAsync());
        await page.WaitForTimeoutAsync(1000);
        await page.FocusAsync("[data-testid=stage]");
        await page.Keyboard.PressAsync(" ");
        var revealed = await Chromium.ShownAsync(page, "[data-testid=revealed]");
        Assert.Contains("DR grade 2", await revealed.InnerTextAsync());
        Assert.True(await page.Locator(".atlas-stack img[alt='expert outlines']").CountAsync() >= 3);
    }

    [BrowserFact]
    public async Task An_admin_runs_an_explanation_study_from_the_models_page_and_sees_its_table()
    {
        var page = await (await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1200 } })).NewPageAsync();
        await page.GotoAsync(_server.Url + "/admin/models");
        await Chromium.SignInAsync(page, _server, "/admin/models");
        await (await Chromium.ShownAsync(page, "[data-testid=explanations]")).ClickAsync();
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/explanations$"));
        await Chromium.ShownAsync(page, "[data-testid=no-study]");
        await page.WaitForTimeoutAsync(1000);
        var limit = page.Locator("input[data-testid=study-limit], [data-testid=study-limit] input").First;
        await limit.FillAsync("1");
        await limit.PressAsync("Tab");
        await page.Locator("input[data-testid=study-faithfulness], [data-testid=study-faithfulness] input").First.ClickAsync();
        await page.ClickAsync("[data-testid=start-study]");
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=study-message]')?.innerText.includes('queued')");
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=study-status]')?.innerText.startsWith('Succeeded')", null,
            new PageWaitForFunctionOptions { Timeout = 180_000 });
        await page.ReloadAsync();
        await Chromium.ShownAsync(page, "[data-testid=study-summary]");
        // The four default methods and the random-map baseline.
        Assert.Equal(5, await page.Locator("[data-testid=study-row]").CountAsync());
        Assert.Contains("Random map (baseline)", await page.InnerTextAsync("[data-testid=study-table]"));
        string table = await page.InnerTextAsync("[data-testid=study-table]");
        Assert.Contains("Grad-CAM", table);
        Assert.Matches(@"\d+/1 \(\d+%; chance \d+%\)", table);
        // The example figures load through the admin-only endpoint.
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('[data-testid=study-example] img')].length > 0 && [...document.querySelectorAll('[data-testid=study-example] img')].every(i => i.complete && i.naturalWidth > 0)");
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _server.DisposeAsync();
        _data.Dispose();
    }
}
