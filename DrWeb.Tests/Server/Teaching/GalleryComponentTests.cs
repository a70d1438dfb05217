using Bunit;
using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Teaching;
using DrWeb.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace DrWeb.Tests.Server.Teaching;

/// <summary>The gallery's matrix, bias panel and page against known rows in a real (temporary) app database.</summary>
public sealed class GalleryComponentTests : IAsyncLifetime
{
    private readonly BunitContext _context = new();
    private readonly TempFolder _data = new();

    public GalleryComponentTests()
    {
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        _context.Services.AddMudServices();
        _context.Services.AddSingleton(Options.Create(new DrWebOptions { DataFolder = _data.Path }));
        _context.Services.AddSingleton<DataFolder>();
        _context.Services.AddSingleton<IImageStore, FolderImageStore>();
        _context.Services.AddDbContextFactory<DrWebDbContext>(o => o.UseSqlite($"Data Source={_data.File("drweb.db")}"));
        _context.Services.AddSingleton<GalleryQueries>();
    }

    public async Task InitializeAsync()
    {
        var factory = _context.Services.GetRequiredService<IDbContextFactory<DrWebDbContext>>();
        await using (var db = await factory.CreateDbContextAsync()) await db.Database.MigrateAsync();
        await GallerySeed.WriteAsync(factory, _context.Services.GetRequiredService<IImageStore>());
    }

    private static ConfusionMatrix Matrix() => ConfusionMatrix.From(GallerySeed.Rows.Select(r => (r.True, r.Predicted)));

    [Fact]
    public void The_matrix_shows_counts_and_row_percentages_and_reports_the_clicked_cell()
    {
        (int, int)? clicked = null;
        var view = _context.Render<ConfusionMatrixView>(p => p.Add(x => x.Matrix, Matrix())
            .Add(x => x.OnCellClick, ((int True, int Predicted) cell) => clicked = cell));

        var cell = view.Find("[data-testid=cell-3-0]");
        Assert.Equal("4", cell.QuerySelector(".count")!.TextContent);
        Assert.Equal("57%", cell.QuerySelector(".share")!.TextContent);
        Assert.Equal("10", view.Find("[data-testid=cell-0-0] .count").TextContent);
        Assert.Equal("83%", view.Find("[data-testid=cell-0-0] .share").TextContent);
        Assert.Contains("rgba(198,40,40,0.54)", cell.GetAttribute("style")); // 0.08 + 0.8 * 4/7

        cell.Click();
        Assert.Equal((3, 0), clicked);
    }

    [Fact]
    public void The_bias_panel_lists_recall_with_support_and_the_sentences()
    {
        var panel = _context.Render<BiasPanel>(p => p.Add(x => x.Summary, new BiasSummary(Matrix())));
        Assert.Contains("29%", panel.Find("[data-testid=recall-3]").TextContent);
        Assert.Contains("(2/7)", panel.Find("[data-testid=recall-3]").TextContent);
        var sentences = panel.FindAll("[data-testid=bias-sentence]").Select(e => e.TextContent).ToList();
        Assert.Contains("57% of grade 3 (Severe NPDR) cases were called grade 0 (No DR); 29% were graded correctly (2 of 7).", sentences);
    }

    [Fact]
    public void The_gallery_opens_on_the_misclassified_cases_and_a_matrix_cell_lists_exactly_its_cases()
    {
        var page = _context.Render<Gallery>();
        page.WaitForAssertion(() => Assert.Equal("16 cases", page.Find("[data-testid=case-count]").TextContent));
        Assert.Equal(16, page.FindAll("[data-testid=thumbnail]").Count);
        // Most confident mistakes first: grade 3 called 0 at 0.91.
        Assert.Contains("true 3 → model 0 · 91%", page.FindAll("[data-testid=thumbnail]")[0].TextContent);
        Assert.Equal(8, page.FindAll("[data-testid=thumbnail].missed").Count);
        Assert.Equal(4, page.FindAll("[data-testid=thumbnail].alarm").Count);

        page.Find("[data-testid=cell-3-0]").Click();
        page.WaitForAssertion(() => Assert.Equal("4 cases", page.Find("[data-testid=case-count]").TextContent));
        Assert.All(page.FindAll("[data-testid=thumbnail]"), t => Assert.Contains("true 3 → model 0", t.TextContent));

        page.Find("[data-testid=cell-0-0]").Click();
        page.WaitForAssertion(() => Assert.Equal("10 cases", page.Find("[data-testid=case-count]").TextContent));
    }

    [Fact]
    public async Task A_second_model_on_the_same_images_is_shown_side_by_side_with_its_own_bias()
    {
        var factory = _context.Services.GetRequiredService<IDbContextFactory<DrWebDbContext>>();
        var store = _context.Services.GetRequiredService<IImageStore>();
        // The "weighted sampler" model: everything right except two grade-3 cases called grade 4.
        var fairer = GallerySeed.Rows.Select((r, i) => (r.True, r.True == 3 && i % 2 == 0 ? 4 : r.True, r.Confidence)).ToList();
        var second = await GallerySeed.WriteAsync(factory, store, modelName: "weighted-sampler", rows: fairer);
        var other = await GallerySeed.WriteAsync(factory, store, modelName: "other-data", fingerprint: "different");
        var first = (await _context.Services.GetRequiredService<GalleryQueries>().EvaluationsAsync()).Single(e => e.ModelName == "seeded-model").Id;

        var navigation = _context.Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        navigation.NavigateTo($"/gallery?evaluation={first}&compare={second}");
        var page = _context.Render<Gallery>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=comparison]")));
        var panels = page.FindAll("[data-testid=bias-panel]");
        Assert.Equal(2, panels.Count);
        Assert.Contains("57% of grade 3 (Severe NPDR) cases were called grade 0", panels[0].TextContent);
        Assert.DoesNotContain("called grade 0", panels[1].QuerySelectorAll("[data-testid=bias-sentence]")[3].TextContent);
        Assert.Contains("called grade 4 (Proliferative DR)", panels[1].QuerySelectorAll("[data-testid=bias-sentence]")[3].TextContent);

        // A model measured on other images is never put side by side.
        navigation.NavigateTo($"/gallery?evaluation={first}&compare={other}");
        var refused = _context.Render<Gallery>();
        refused.WaitForAssertion(() => Assert.Single(refused.FindAll("[data-testid=bias-panel]")));
    }

    public async Task DisposeAsync()
    {
        await _context.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _data.Dispose();
    }
}
