using System.Security.Claims;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DrWeb.Server.Screening;

/// <summary>Filters for the screening history.</summary>
public sealed record CaseFilter(DateTimeOffset? From = null, DateTimeOffset? To = null, int? Grade = null, bool? Referable = null,
    string? PatientId = null, int Skip = 0, int Take = 50);

/// <summary>
/// Reads stored cases for one user, within <see cref="ScreeningOptions.CaseVisibility"/>: with <c>own</c> a Doctor
/// sees the cases they uploaded and an Admin sees all; with <c>all</c> every Doctor sees every case. A case outside a
/// user's view reads as missing, so its existence is not revealed. Opening someone else's case is audited. Nothing
/// here recomputes a prediction.
/// </summary>
public sealed class CaseQueries(IDbContextFactory<DrWebDbContext> dbFactory, IOptions<DrWebOptions> options, AuditLog audit)
{
    public async Task<(List<Case> Cases, int Total)> ListAsync(CaseFilter filter, ClaimsPrincipal viewer, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        IQueryable<Case> q = Visible(db.Cases.AsNoTracking().Include(c => c.Predictions), viewer);
        if (filter.From is { } from) q = q.Where(c => c.CreatedUtc >= from);
        if (filter.To is { } to) q = q.Where(c => c.CreatedUtc <= to);
        if (filter.Grade is { } g) q = q.Where(c => c.Predictions.Any(p => p.Grade == g));
        if (filter.Referable is { } r) q = q.Where(c => c.Predictions.Any(p => p.Referable == r));
        if (!string.IsNullOrWhiteSpace(filter.PatientId)) q = q.Where(c => c.PatientId == filter.PatientId.Trim());
        int total = await q.CountAsync(token);
        var cases = await q.OrderByDescending(c => c.CreatedUtc).Skip(filter.Skip).Take(Math.Clamp(filter.Take, 1, 500)).ToListAsync(token);
        return (cases, total);
    }

    /// <summary>
    /// The case, if it exists and the viewer may see it; <paramref name="what"/> names what was opened (the page, the
    /// API, an image) for the audit entry written when the viewer is not the uploader.
    /// </summary>
    public async Task<Case?> OpenAsync(Guid id, ClaimsPrincipal viewer, string what, string? address = null, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var found = await Visible(db.Cases.AsNoTracking().Include(c => c.Predictions), viewer).FirstOrDefaultAsync(c => c.Id == id, token);
        if (found is not null && !string.Equals(found.UploadedBy, viewer.Identity?.Name, StringComparison.OrdinalIgnoreCase))
            await audit.RecordAsync(AuditAction.CaseViewed, viewer.Identity?.Name, found.Id.ToString(),
                $"{what}; uploaded by {found.UploadedBy ?? "(not recorded)"}", address, token);
        return found;
    }

    /// <summary>Whether this viewer sees other users' cases (and so needs to be told who uploaded each).</summary>
    public bool SeesOthersCases(ClaimsPrincipal viewer) =>
        options.Value.Screening.CaseVisibility == CaseVisibility.All || viewer.IsInRole(AccountSetup.Admin);

    private IQueryable<Case> Visible(IQueryable<Case> cases, ClaimsPrincipal viewer)
    {
        if (SeesOthersCases(viewer)) return cases;
        string name = viewer.Identity?.Name ?? "";
        return cases.Where(c => c.UploadedBy == name);
    }
}
