using DrWeb.Server.Data;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Services;

/// <summary>Filters for the screening history.</summary>
public sealed record CaseFilter(DateTimeOffset? From = null, DateTimeOffset? To = null, int? Grade = null, bool? Referable = null,
    string? PatientId = null, int Skip = 0, int Take = 50);

/// <summary>Reads stored cases; nothing here recomputes a prediction.</summary>
public sealed class CaseQueries(IDbContextFactory<DrWebDbContext> dbFactory)
{
    public async Task<(List<Case> Cases, int Total)> ListAsync(CaseFilter filter, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        IQueryable<Case> q = db.Cases.AsNoTracking().Include(c => c.Predictions);
        if (filter.From is { } from) q = q.Where(c => c.CreatedUtc >= from);
        if (filter.To is { } to) q = q.Where(c => c.CreatedUtc <= to);
        if (filter.Grade is { } g) q = q.Where(c => c.Predictions.Any(p => p.Grade == g));
        if (filter.Referable is { } r) q = q.Where(c => c.Predictions.Any(p => p.Referable == r));
        if (!string.IsNullOrWhiteSpace(filter.PatientId)) q = q.Where(c => c.PatientId == filter.PatientId.Trim());
        int total = await q.CountAsync(token);
        var cases = await q.OrderByDescending(c => c.CreatedUtc).Skip(filter.Skip).Take(Math.Clamp(filter.Take, 1, 500)).ToListAsync(token);
        return (cases, total);
    }

    public async Task<Case?> GetAsync(Guid id, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        return await db.Cases.AsNoTracking().Include(c => c.Predictions).FirstOrDefaultAsync(c => c.Id == id, token);
    }
}
