using System.Net;
using System.Text.RegularExpressions;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Teaching;
using DrWeb.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Teaching;

/// <summary>Lessons: pin, reorder, remove, quiz answers and summary, the offline HTML export, and who may see gallery media.</summary>
public class LessonsTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    private Lessons LessonBook => factory.Services.GetRequiredService<Lessons>();

    private async Task<List<EvaluationCase>> SeededCasesAsync()
    {
        _ = factory.Server;
        var id = await GallerySeed.WriteAsync(factory.Services.GetRequiredService<IDbContextFactory<DrWebDbContext>>(),
            factory.Services.GetRequiredService<IImageStore>(), modelName: "l-" + Guid.NewGuid().ToString("N")[..8]);
        return (await factory.Services.GetRequiredService<GalleryQueries>().PageAsync(id, new GalleryFilter { Tab = GalleryTab.All, Sort = GallerySort.Image }, 0, 100)).Cases.ToList();
    }

    [Fact]
    public async Task Cases_are_pinned_once_reordered_removed_and_the_lesson_deleted()
    {
        var cases = await SeededCasesAsync();
        var (lesson, problem) = await LessonBook.CreateAsync("Missed severe disease", "teacher");
        Assert.Null(problem);
        Assert.Equal("Give the lesson a title.", (await LessonBook.CreateAsync("  ", "teacher")).Problem);
        foreach (var c in cases.Take(3)) Assert.Null(await LessonBook.PinAsync(lesson!.Id, c.Id));
        Assert.Equal("The case is already in this lesson.", await LessonBook.PinAsync(lesson!.Id, cases[0].Id));

        var items = (await LessonBook.GetAsync(lesson.Id))!.Items;
        Assert.Equal(cases.Take(3).Select(c => c.Id), items.Select(i => i.EvaluationCaseId!.Value));
        await LessonBook.MoveAsync(items[2].Id, -1);
        await LessonBook.MoveAsync(items[0].Id, -1); // already first: nothing happens
        Assert.Equal([cases[0].Id, cases[2].Id, cases[1].Id], (await LessonBook.GetAsync(lesson.Id))!.Items.Select(i => i.EvaluationCaseId!.Value));
        await LessonBook.RemoveItemAsync(items[0].Id);
        var left = (await LessonBook.GetAsync(lesson.Id))!.Items;
        Assert.Equal([cases[2].Id, cases[1].Id], left.Select(i => i.EvaluationCaseId));
        Assert.Equal([0, 1], left.Select(i => i.Position));
        Assert.Null(await LessonBook.UpdateAsync(lesson.Id, "Renamed", "Start with the easy one."));
        Assert.Equal("Renamed", (await LessonBook.GetAsync(lesson.Id))!.Title);

        await LessonBook.DeleteAsync(lesson.Id);
        Assert.Null(await LessonBook.GetAsync(lesson.Id));
    }

    [Fact]
    public async Task The_quiz_summary_compares_the_class_with_the_model()
    {
        var cases = await SeededCasesAsync();
        var wrong = cases.Where(c => !c.Correct).Take(2).ToList();
        var right = cases.First(c => c.Correct);
        var (lesson, _) = await LessonBook.CreateAsync("Quiz", "teacher");
        foreach (var c in wrong.Append(right)) await LessonBook.PinAsync(lesson!.Id, c.Id);
        var items = (await LessonBook.GetAsync(lesson!.Id))!.Items;
        await LessonBook.RecordClassAnswerAsync(items[0].Id, wrong[0].TrueGrade);        // class right, model wrong
        await LessonBook.RecordClassAnswerAsync(items[1].Id, (wrong[1].TrueGrade + 1) % 5); // both wrong

        var summary = QuizSummary.Of((await LessonBook.GetAsync(lesson.Id))!.Items);

        Assert.Equal(new QuizSummary(3, 2, 1, 0, 1), summary);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => LessonBook.RecordClassAnswerAsync(items[2].Id, 7));
    }

    [Fact]
    public async Task The_export_is_one_html_file_with_every_image_embedded_and_nothing_fetched()
    {
        var cases = await SeededCasesAsync();
        var (lesson, _) = await LessonBook.CreateAsync("Export <me>", "teacher");
        await LessonBook.PinAsync(lesson!.Id, cases.First(c => !c.Correct).Id);
        await LessonBook.PinAsync(lesson.Id, cases.First(c => c.Correct).Id);

        using var educator = await factory.SignedInClientAsync(AccountSetup.Educator);
        var response = await educator.GetAsync($"/gallery/lessons/{lesson.Id}/export");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Export--me.html", response.Content.Headers.ContentDisposition!.FileNameStar ?? response.Content.Headers.ContentDisposition.FileName);
        string html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Export &lt;me&gt;", html);
        var sources = Regex.Matches(html, "src=\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToList();
        // Photograph + predicted heatmap for both, true-grade heatmap for the wrong one.
        Assert.Equal(5, sources.Count);
        Assert.All(sources, s => Assert.StartsWith("data:image/jpeg;base64,", s));
        Assert.DoesNotMatch("(href|src)=\"(https?:)?//", html);
        var (audited, _) = await factory.Services.GetRequiredService<AuditLog>().ListAsync(new AuditFilter(AuditAction.LessonExported));
        Assert.Contains(audited, e => e.Subject == lesson.Id.ToString() && e.Actor.StartsWith("educator-"));
    }

    [Fact]
    public async Task Gallery_media_and_exports_are_for_educators_and_admins_only()
    {
        var cases = await SeededCasesAsync();
        string url = $"/gallery/media/{cases[0].ImageHash}?max=64";
        using var educator = await factory.SignedInClientAsync(AccountSetup.Educator);
        var image = await educator.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/jpeg", image.Content.Headers.ContentType!.MediaType);
        using (var decoded = SixLabors.ImageSharp.Image.Load(await image.Content.ReadAsByteArrayAsync()))
            Assert.Equal(64, Math.Max(decoded.Width, decoded.Height));

        using var doctor = await factory.SignedInClientAsync(AccountSetup.Doctor);
        Assert.Equal(HttpStatusCode.Forbidden, (await doctor.GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await doctor.GetAsync("/gallery")).StatusCode);
        using var anonymous = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        Assert.NotEqual(HttpStatusCode.OK, (await anonymous.GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await educator.GetAsync($"/gallery/media/{new string('a', 64)}")).StatusCode);
    }
}
