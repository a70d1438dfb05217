using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Teaching;
using DrWeb.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Teaching;

/// <summary>Gallery filters, order and paging in the database, against rows whose answers are known.</summary>
public class GalleryQueriesTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    private GalleryQueries Queries => factory.Services.GetRequiredService<GalleryQueries>();

    private async Task<Guid> SeedAsync() => await GallerySeed.WriteAsync(
        factory.Services.GetRequiredService<IDbContextFactory<DrWebDbContext>>(), factory.Services.GetRequiredService<IImageStore>(),
        modelName: "m-" + Guid.NewGuid().ToString("N")[..8]);

    private async Task<int> CountAsync(Guid evaluation, GalleryFilter filter) => (await Queries.PageAsync(evaluation, filter, 0, 1000)).Total;

    [Fact]
    public async Task Tabs_grades_and_referable_errors_filter_exactly()
    {
        _ = factory.Server;
        var id = await SeedAsync();
        Assert.Equal(16, await CountAsync(id, new GalleryFilter { Tab = GalleryTab.Misclassified }));
        Assert.Equal(24, await CountAsync(id, new GalleryFilter { Tab = GalleryTab.Correct }));
        Assert.Equal(40, await CountAsync(id, new GalleryFilter { Tab = GalleryTab.All }));
        Assert.Equal(7, await CountAsync(id, new GalleryFilter { Tab = GalleryTab.All, TrueGrade = 3 }));
        Assert.Equal(9, await CountAsync(id, new GalleryFilter { Tab = GalleryTab.Misclassified, PredictedGrade = 0 }));
        Assert.Equal(8, await CountAsync(id, new GalleryFilter { Tab = GalleryTab.All, Referable = ReferableError.MissedDisease }));
        Assert.Equal(4, await CountAsync(id, new GalleryFilter { Tab = GalleryTab.All, Referable = ReferableError.FalseAlarm }));
        Assert.Equal(12, await CountAsync(id, new GalleryFilter { Tab = GalleryTab.All, Referable = ReferableError.EitherError }));
    }

    [Fact]
    public async Task Confidence_limits_and_order_put_the_most_confident_mistakes_first_and_pages_do_not_overlap()
    {
        _ = factory.Server;
        var id = await SeedAsync();
        var sure = await Queries.PageAsync(id, new GalleryFilter { MinConfidence = 0.6 }, 0, 100);
        var expected = GallerySeed.Rows.Where(r => r.True != r.Predicted && r.Confidence >= 0.6f).Select(r => r.Confidence).OrderDescending().ToList();
        Assert.Equal(expected, sure.Cases.Select(GalleryQueries.ConfidenceOf));

        var unsure = await Queries.PageAsync(id, new GalleryFilter { MaxConfidence = 0.45, Sort = GallerySort.LeastConfidentFirst }, 0, 100);
        Assert.Equal(GallerySeed.Rows.Where(r => r.True != r.Predicted && r.Confidence <= 0.45f).Select(r => r.Confidence).Order(), unsure.Cases.Select(GalleryQueries.ConfidenceOf));

        var first = await Queries.PageAsync(id, new GalleryFilter { Tab = GalleryTab.All }, 0, 15);
        var second = await Queries.PageAsync(id, new GalleryFilter { Tab = GalleryTab.All }, 1, 15);
        var third = await Queries.PageAsync(id, new GalleryFilter { Tab = GalleryTab.All }, 2, 15);
        Assert.Equal((15, 15, 10), (first.Cases.Count, second.Cases.Count, third.Cases.Count));
        Assert.Equal(40, first.Cases.Concat(second.Cases).Concat(third.Cases).Select(c => c.Id).Distinct().Count());
    }

    [Fact]
    public async Task The_matrix_is_counted_in_the_database_and_notes_are_kept()
    {
        _ = factory.Server;
        var id = await SeedAsync();
        var matrix = await Queries.MatrixAsync(id);
        Assert.Equal(40, matrix.Total);
        Assert.Equal(4, matrix[3, 0]);
        Assert.Equal(12, matrix.Support(0));

        var one = (await Queries.PageAsync(id, new GalleryFilter(), 0, 1)).Cases[0];
        Assert.Equal("Write something first.", await Queries.AddNoteAsync(one.Id, "teacher", "  "));
        Assert.Null(await Queries.AddNoteAsync(one.Id, "teacher", "Look at the haemorrhages at 4 o'clock."));
        var (found, evaluation, notes) = (await Queries.CaseAsync(one.Id))!.Value;
        Assert.Equal(one.Id, found.Id);
        Assert.StartsWith("m-", evaluation.ModelName);
        Assert.Equal("Look at the haemorrhages at 4 o'clock.", Assert.Single(notes).Text);
    }
}
