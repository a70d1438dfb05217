using DrWeb.Tests.Support;
using Microsoft.Playwright;
using UglyToad.PdfPig;

namespace DrWeb.Tests.Browser;

/// <summary>A doctor's exam in real Chromium against the real server: two eyes in, one patient banner, a grade, a printed report.</summary>
[Trait("Category", "Browser")]
public sealed class ExamBrowserTests : IAsyncLifetime
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
    public async Task A_doctor_uploads_both_eyes_confirms_the_guesses_records_a_grade_and_prints_the_report_on_one_page()
    {
        // The raw camera photographs under names without an eye word, so that the optic disc decides the guess.
        using var tmp = SharedData.TempFolder();
        File.Copy(Path.Combine(SharedData.FundusRawImages, "178_left.jpeg"), tmp.File("visit-a.jpeg"));
        File.Copy(Path.Combine(SharedData.FundusRawImages, "178_right.jpeg"), tmp.File("visit-b.jpeg"));

        var page = await _browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1400 } });
        await page.GotoAsync(_server.Url + "/exams/new");
        await Chromium.SignInAsync(page, _server, "/exams/new");
        await page.Locator("input[data-testid=exam-patient], [data-testid=exam-patient] input").First.FillAsync("PT-0042");
        await page.Locator("input[type=file]").First.SetInputFilesAsync([tmp.File("visit-a.jpeg"), tmp.File("visit-b.jpeg")]);

        var left = await Chromium.ShownAsync(page, "[data-testid=slot-left] [data-testid=exam-photo]", 60_000);
        Assert.Contains("visit-a.jpeg", await left.InnerTextAsync());
        Assert.Contains("optic disc is on the left", await left.InnerTextAsync());
        Assert.Contains("visit-b.jpeg", await page.Locator("[data-testid=slot-right] [data-testid=exam-photo]").InnerTextAsync());
        Assert.True(await page.Locator("[data-testid=grade-exam]").IsDisabledAsync());
        await page.Locator("input[data-testid=confirm-eyes], [data-testid=confirm-eyes] input").First.ClickAsync();
        await page.Locator("[data-testid=grade-exam]").ClickAsync();

        // Both results side by side, and one banner for the patient.
        var banner = await Chromium.ShownAsync(page, "[data-testid=exam-banner]", 180_000);
        string bannerText = await banner.InnerTextAsync();
        Assert.Matches("(Refer|Rescreen):", bannerText);
        Assert.Contains("ICO Guidelines", bannerText);
        Assert.Matches(@"Grade [0-4] \(", await page.Locator("[data-testid=eye-left-result]").InnerTextAsync());
        Assert.Matches(@"Grade [0-4] \(", await page.Locator("[data-testid=eye-right-result]").InnerTextAsync());
        Assert.Equal(2, await page.Locator("[data-testid=eye-left] img[alt='Grad-CAM overlay'], [data-testid=eye-right] img[alt='Grad-CAM overlay']").CountAsync());
        Assert.Equal(10, await page.Locator("[data-testid=probability]").CountAsync());
        Assert.Contains("awaiting confirmation", await page.Locator("[data-testid=exam-status]").InnerTextAsync());
        string examUrl = page.Url;

        // The doctor grades the left eye and records the decision.
        await page.Locator("[data-testid=doctor-grade-left]").ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item", new() { HasText = "2 " }).First.ClickAsync();
        await page.Locator("[data-testid=confirm-exam]").ClickAsync();
        var confirmed = await Chromium.ShownAsync(page, "[data-testid=confirmed-text]", 30_000);
        Assert.Contains("left 2", await confirmed.InnerTextAsync());
        Assert.DoesNotContain("awaiting", await page.Locator("[data-testid=exam-status]").InnerTextAsync());

        // The report, printed by Chromium, is one page on A4 and on Letter and says what the exam says.
        await page.Locator("[data-testid=open-report]").ClickAsync();
        await Chromium.ShownAsync(page, "[data-testid=report]", 30_000);
        string shots = Path.Combine(SharedData.RepoRoot, "artifacts", "screenshots");
        Directory.CreateDirectory(shots);
        foreach (string format in new[] { "A4", "Letter" })
        {
            byte[] pdf = await page.PdfAsync(new PagePdfOptions { Format = format, PrintBackground = true, Path = Path.Combine(shots, $"exam-report-{format}.pdf") });
            using var document = PdfDocument.Open(pdf);
            Assert.Equal(1, document.NumberOfPages);
            // Chromium typesets "fi" and "fl" as ligatures.
            string text = string.Join(" ", document.GetPage(1).GetWords().Select(w => w.Text)).Replace("\uFB01", "fi").Replace("\uFB02", "fl");
            Assert.Contains("PT-0042", text);
            Assert.Contains("Right eye (OD)", text);
            Assert.Contains("Left eye (OS)", text);
            Assert.Contains("Not for clinical use", text);
            Assert.Contains(bannerText.Split('\n')[0].Split(':', 2)[1].Trim(), text);
            Assert.True(text.Contains("Confirmed by") || text.Contains("Overridden by"), text);
        }
        Assert.StartsWith(examUrl, page.Url);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _server.DisposeAsync();
    }
}
