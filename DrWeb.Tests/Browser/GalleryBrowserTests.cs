using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;

namespace DrWeb.Tests.Browser;

/// <summary>An educator's gallery session in real Chromium: matrix cell, case, lesson, presentation, offline export.</summary>
[Trait("Category", "Browser")]
public sealed class GalleryBrowserTests : IAsyncLifetime
{
    private readonly TempFolder _data = new();
    private ServerProcess _server = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        // Known evaluation rows in the data folder the server will open (it applies any missing migrations itself).
        var options = new DbContextOptionsBuilder<DrWebDbContext>().UseSqlite($"Data Source={Path.Combine(_data.Path, "drweb.db")}").Options;
        await using (var db = new DrWebDbContext(options)) await db.Database.MigrateAsync();
        var store = new FolderImageStore(new DataFolder(Options.Create(new DrWebOptions { DataFolder = _data.Path })));
        await GallerySeed.WriteAsync(new PooledDbContextFactory<DrWebDbContext>(options), store);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        _server = await ServerProcess.StartAsync(_data.Path);
        _playwright = await Playwright.CreateAsync();
        _browser = await Chromium.LaunchAsync(_playwright);
    }

    [BrowserFact]
    public async Task An_educator_clicks_a_matrix_cell_opens_a_case_pins_it_and_reveals_it_in_presentation_mode_then_exports_it()
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1200 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(_server.Url + "/gallery");
        await Chromium.SignInAsync(page, _server, "/gallery");

        Assert.Equal("16 cases", await page.InnerTextAsync("[data-testid=case-count]"));
        Assert.Contains("57% of grade 3 (Severe NPDR) cases were called grade 0 (No DR)", await page.InnerTextAsync("[data-testid=bias-panel]"));
        await page.ClickAsync("[data-testid=cell-3-0]");
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=case-count]').innerText === '4 cases'");
        // Thumbnails come from the role-checked media endpoint and load.
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('[data-testid=thumbnail] img')].every(i => i.complete && i.naturalWidth > 0)");

        await page.Locator("[data-testid=thumbnail]").First.ClickAsync();
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/gallery/case/\\d+"));
        await page.WaitForTimeoutAsync(1000);
        Assert.Contains("true grade 3 (Severe NPDR), model 0 (No DR)", await page.InnerTextAsync("[data-testid=case-title]"));
        // Every method but Score-CAM on this photograph, each with its deletion and insertion AUC.
        await page.ClickAsync("[data-testid=compare-methods]");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('[data-testid=compare-caption]').length === 6", null,
            new PageWaitForFunctionOptions { Timeout = 180_000 });
        var captions = await page.Locator("[data-testid=compare-caption]").AllInnerTextsAsync();
        Assert.All(captions, c => Assert.Matches(@"deletion 0\.\d{3} · insertion 0\.\d{3}", c));
        Assert.Contains(captions, c => c.Contains("LayerCAM"));
        await page.Locator("input[data-testid=new-lesson], [data-testid=new-lesson] input").First.FillAsync("Missed severe disease");
        await page.ClickAsync("[data-testid=pin]");
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=case-message]')?.innerText.includes('Pinned')");

        await page.GotoAsync(_server.Url + "/gallery/lessons");
        await page.ClickAsync("text=Missed severe disease");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/gallery/lessons/[0-9a-f-]+$"));
        string lessonUrl = page.Url;
        await Chromium.ShownAsync(page, "[data-testid=lesson-items] tbody tr img");
        await page.WaitForTimeoutAsync(1000);
        await (await Chromium.ShownAsync(page, "[data-testid=present]")).ClickAsync();
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/present$"));
        await page.WaitForFunctionAsync("() => window.Blazor !== undefined");
        var hidden = page.Locator("[data-testid=hidden]");
        await hidden.WaitForAsync();
        Assert.Equal(0, await page.Locator("[data-testid=revealed]").CountAsync());
        await page.WaitForTimeoutAsync(1000);
        await page.FocusAsync("[data-testid=stage]");
        await page.Keyboard.PressAsync("1");
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=class-answer]').innerText === 'class said grade 1'");
        await page.Keyboard.PressAsync(" ");
        var revealed = page.Locator("[data-testid=revealed]");
        await revealed.WaitForAsync();
        Assert.Contains("True grade 3 (Severe NPDR) · model said 0 (No DR)", await revealed.InnerTextAsync());
        string shots = Path.Combine(SharedData.RepoRoot, "artifacts", "screenshots");
        Directory.CreateDirectory(shots);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, "presentation-revealed.png") });
        await page.Keyboard.PressAsync("ArrowRight");
        var summary = page.Locator("[data-testid=summary]");
        await summary.WaitForAsync();
        Assert.Contains("The class answered 1 of 1 cases and got 0 right", await summary.InnerTextAsync());

        // The export opens from a file:// URL in a browser with no network at all.
        var export = await context.APIRequest.GetAsync(lessonUrl + "/export");
        Assert.True(export.Ok);
        string file = _data.File("lesson.html");
        await File.WriteAllBytesAsync(file, await export.BodyAsync());
        var offline = await _browser.NewContextAsync(new BrowserNewContextOptions { Offline = true });
        var local = await offline.NewPageAsync();
        var requests = new List<string>();
        local.Request += (_, r) => requests.Add(r.Url);
        await local.GotoAsync("file://" + file);
        await local.WaitForFunctionAsync("() => [...document.images].length >= 2 && [...document.images].every(i => i.complete && i.naturalWidth > 0)");
        Assert.False(await local.Locator("section.current .answer").IsVisibleAsync());
        await local.Keyboard.PressAsync(" ");
        Assert.True(await local.Locator("section.current .answer").IsVisibleAsync());
        Assert.Contains("True grade:", await local.Locator("section.current .answer").InnerTextAsync());
        Assert.All(requests, r => Assert.True(r.StartsWith("file://") || r.StartsWith("data:"), r));
        await offline.DisposeAsync();
        await context.DisposeAsync();
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _server.DisposeAsync();
        _data.Dispose();
    }
}
