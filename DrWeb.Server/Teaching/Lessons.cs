using DrWeb.Server.Platform.Database;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Teaching;

/// <summary>Named, ordered collections of gallery cases for teaching: created, edited, reordered, presented, deleted.</summary>
public sealed class Lessons(IDbContextFactory<DrWebDbContext> dbFactory)
{
    public async Task<List<Lesson>> ListAsync(CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        return await db.Lessons.AsNoTracking().Include(l => l.Items).OrderBy(l => l.Title).ToListAsync(token);
    }

    /// <summary>A lesson with its items in order, each with its case.</summary>
    public async Task<Lesson?> GetAsync(Guid id, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        return await db.Lessons.AsNoTracking().Include(l => l.Items.OrderBy(i => i.Position)).ThenInclude(i => i.Case)
            .FirstOrDefaultAsync(l => l.Id == id, token);
    }

    public async Task<(Lesson? Lesson, string? Problem)> CreateAsync(string title, string? owner, CancellationToken token = default)
    {
        if (Problem(title) is { } problem) return (null, problem);
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var lesson = new Lesson { Title = title.Trim(), Owner = owner };
        db.Lessons.Add(lesson);
        await db.SaveChangesAsync(token);
        return (lesson, null);
    }

    public async Task<string?> UpdateAsync(Guid id, string title, string? notes, CancellationToken token = default)
    {
        if (Problem(title) is { } problem) return problem;
        if (notes is { Length: > 4000 }) return "Lesson notes can be at most 4000 characters.";
        await using var db = await dbFactory.CreateDbContextAsync(token);
        int changed = await db.Lessons.Where(l => l.Id == id).ExecuteUpdateAsync(s => s
            .SetProperty(l => l.Title, title.Trim()).SetProperty(l => l.Notes, string.IsNullOrWhiteSpace(notes) ? null : notes.Trim()), token);
        return changed == 0 ? "That lesson no longer exists." : null;
    }

    public async Task DeleteAsync(Guid id, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        await db.Lessons.Where(l => l.Id == id).ExecuteDeleteAsync(token);
    }

    /// <summary>Pins a case at the end of a lesson; a case already in it is not added twice.</summary>
    public async Task<string?> PinAsync(Guid lessonId, long caseId, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        if (!await db.Lessons.AnyAsync(l => l.Id == lessonId, token)) return "That lesson no longer exists.";
        if (!await db.EvaluationCases.AnyAsync(c => c.Id == caseId, token)) return "That case no longer exists.";
        if (await db.LessonItems.AnyAsync(i => i.LessonId == lessonId && i.EvaluationCaseId == caseId, token)) return "The case is already in this lesson.";
        await AppendAsync(db, new LessonItem { LessonId = lessonId, EvaluationCaseId = caseId }, token);
        return null;
    }

    /// <summary>Pins a lesion atlas photograph at the end of a lesson; the presentation reveals its expert outlines.</summary>
    public async Task<string?> PinAtlasCaseAsync(Guid lessonId, string atlasCaseId, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        if (!await db.Lessons.AnyAsync(l => l.Id == lessonId, token)) return "That lesson no longer exists.";
        if (await db.LessonItems.AnyAsync(i => i.LessonId == lessonId && i.AtlasCaseId == atlasCaseId, token)) return "The photograph is already in this lesson.";
        await AppendAsync(db, new LessonItem { LessonId = lessonId, AtlasCaseId = atlasCaseId }, token);
        return null;
    }

    /// <summary>Adds <paramref name="item"/> after the lesson's last item.</summary>
    private static async Task AppendAsync(DrWebDbContext db, LessonItem item, CancellationToken token)
    {
        item.Position = (await db.LessonItems.Where(i => i.LessonId == item.LessonId).MaxAsync(i => (int?)i.Position, token) ?? -1) + 1;
        db.LessonItems.Add(item);
        await db.SaveChangesAsync(token);
    }

    public async Task RemoveItemAsync(long itemId, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var item = await db.LessonItems.FindAsync([itemId], token);
        if (item is null) return;
        db.LessonItems.Remove(item);
        await db.SaveChangesAsync(token);
        await RenumberAsync(db, item.LessonId, token);
    }

    /// <summary>Moves an item one place up (-1) or down (+1).</summary>
    public async Task MoveAsync(long itemId, int direction, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var item = await db.LessonItems.FindAsync([itemId], token);
        if (item is null) return;
        var items = await db.LessonItems.Where(i => i.LessonId == item.LessonId).OrderBy(i => i.Position).ToListAsync(token);
        int at = items.FindIndex(i => i.Id == itemId), to = at + Math.Sign(direction);
        if (to < 0 || to >= items.Count) return;
        (items[at], items[to]) = (items[to], items[at]);
        for (int i = 0; i < items.Count; i++) items[i].Position = i;
        await db.SaveChangesAsync(token);
    }

    public async Task SetItemNotesAsync(long itemId, string? notes, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        string? text = string.IsNullOrWhiteSpace(notes) ? null : notes.Trim()[..Math.Min(notes.Trim().Length, 2000)];
        await db.LessonItems.Where(i => i.Id == itemId).ExecuteUpdateAsync(s => s.SetProperty(i => i.Notes, text), token);
    }

    /// <summary>Records the grade the class guessed for an item in presentation mode (null clears it).</summary>
    public async Task RecordClassAnswerAsync(long itemId, int? grade, CancellationToken token = default)
    {
        if (grade is < 0 or > 4) throw new ArgumentOutOfRangeException(nameof(grade), grade, "Grades run from 0 to 4.");
        await using var db = await dbFactory.CreateDbContextAsync(token);
        await db.LessonItems.Where(i => i.Id == itemId).ExecuteUpdateAsync(s => s.SetProperty(i => i.ClassAnswer, grade), token);
    }

    private static async Task RenumberAsync(DrWebDbContext db, Guid lessonId, CancellationToken token)
    {
        var items = await db.LessonItems.Where(i => i.LessonId == lessonId).OrderBy(i => i.Position).ToListAsync(token);
        for (int i = 0; i < items.Count; i++) items[i].Position = i;
        await db.SaveChangesAsync(token);
    }

    private static string? Problem(string title) =>
        string.IsNullOrWhiteSpace(title) ? "Give the lesson a title." : title.Trim().Length > 200 ? "A title can be at most 200 characters." : null;
}

/// <summary>How the class and the model did on a presented lesson.</summary>
public sealed record QuizSummary(int Cases, int Answered, int ClassCorrect, int ModelCorrect, int ClassCorrectWhereModelWrong)
{
    public static QuizSummary Of(IReadOnlyList<LessonItem> items)
    {
        var answered = items.Where(i => i.ClassAnswer is not null && i.Case is not null).ToList();
        return new QuizSummary(items.Count, answered.Count,
            answered.Count(i => i.ClassAnswer == i.Case!.TrueGrade),
            answered.Count(i => i.Case!.PredictedGrade == i.Case.TrueGrade),
            answered.Count(i => i.ClassAnswer == i.Case!.TrueGrade && i.Case.PredictedGrade != i.Case.TrueGrade));
    }
}
