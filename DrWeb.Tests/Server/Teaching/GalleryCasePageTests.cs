using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Tests.Server.Teaching;

/// <summary>A gallery case shows its quality verdict and the picture the model saw next to the original.</summary>
public class GalleryCasePageTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    [Fact]
    public async Task The_case_page_shows_the_quality_verdict_and_the_models_view_beside_the_original()
    {
        _ = factory.Server;
        var dbFactory = factory.Services.GetRequiredService<IDbContextFactory<DrWebDbContext>>();
        var store = factory.Services.GetRequiredService<IImageStore>();
        var evaluationId = await GallerySeed.WriteAsync(dbFactory, store, "view-model", "view-seed");
        using var view = new Image<Rgb24>(224, 224, new Rgb24(120, 60, 30));
        using var ms = new MemoryStream();
        view.SaveAsPng(ms);
        string viewHash = store.Save(ms.ToArray());

        long withView, withoutView;
        await using (var db = await dbFactory.CreateDbContextAsync())
        {
            var cases = await db.EvaluationCases.Where(c => c.EvaluationId == evaluationId).OrderBy(c => c.Id).ToListAsync();
            var c = cases[0];
            c.ModelViewHash = viewHash;
            c.ModelViewNote = "Already a fundus crop, so framed as it is; colour recipe clahe, 224 x 224 px.";
            c.HeatmapOnModelView = true;
            c.QualityVerdict = "Usable";
            c.QualityReasons = "The fundus is only 256 pixels across. Upload the camera's full-resolution file.";
            cases.First(x => !x.Correct).QualityVerdict = "Ungradable";
            await db.SaveChangesAsync();
            (withView, withoutView) = (c.Id, cases[2].Id);
        }

        using var educator = await factory.SignedInClientAsync(AccountSetup.Educator);
        string html = await educator.GetStringAsync($"/gallery/case/{withView}");
        Assert.Contains("data-testid=\"original-view\"", html);
        Assert.Contains("data-testid=\"model-view\"", html);
        Assert.Contains("What the model saw: Already a fundus crop", html);
        Assert.Contains($"gallery/media/{viewHash}", html);
        Assert.Contains("image quality: Usable", html);
        Assert.Contains("only 256 pixels across", html);

        // The view is served as stored: a lossless PNG, the exact pixels the model was given.
        var media = await educator.GetAsync($"/gallery/media/{viewHash}?max=768");
        Assert.Equal("image/png", media.Content.Headers.ContentType!.MediaType);
        Assert.Equal(store.Read(viewHash), await media.Content.ReadAsByteArrayAsync());

        // Older rows (before views and the gate were kept) say so instead of showing a broken image.
        string older = await educator.GetStringAsync($"/gallery/case/{withoutView}");
        Assert.DoesNotContain("data-testid=\"model-view\"", older);
        Assert.Contains("image quality: not assessed", older);

        // The grid (misclassified tab) flags the ungradable photograph, once.
        string grid = await educator.GetStringAsync($"/gallery?evaluation={evaluationId}");
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(grid, "data-testid=\"thumbnail-quality\""));
    }
}
