using System.Security.Claims;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Screening;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Exams;

/// <summary>Filters for the exam history.</summary>
public sealed record ExamFilter(ExamStatus? Status = null, string? PatientId = null, int Skip = 0, int Take = 50);

/// <summary>How often one doctor and the model agreed on the exams that doctor confirmed.</summary>
/// <param name="Eyes">Eyes with both a doctor's grade and a model grade.</param>
/// <param name="SameGrade">Of those, how many had the same grade.</param>
/// <param name="Kappa">Quadratic-weighted kappa over those eyes' grades; null with fewer than two eyes.</param>
/// <param name="Exams">Exams confirmed.</param>
/// <param name="SameDecision">Of those, how many kept the model's refer-or-rescreen decision.</param>
public sealed record DoctorAgreement(string Doctor, int Eyes, int SameGrade, double? Kappa, int Exams, int SameDecision);

/// <summary>Reads exams within the same visibility as the screening history, and measures doctor-model agreement.</summary>
public sealed class ExamQueries(IDbContextFactory<DrWebDbContext> dbFactory, CaseQueries cases)
{
    public async Task<(List<Exam> Exams, int Total)> ListAsync(ExamFilter filter, ClaimsPrincipal viewer, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        IQueryable<Exam> q = Visible(db.Exams.AsNoTracking(), viewer, cases.SeesOthersCases(viewer));
        q = filter.Status switch
        {
            ExamStatus.AwaitingConfirmation => q.Where(e => e.ConfirmedUtc == null),
            ExamStatus.Confirmed => q.Where(e => e.ConfirmedUtc != null && e.DoctorRefer != true),
            ExamStatus.Referred => q.Where(e => e.ConfirmedUtc != null && e.DoctorRefer == true),
            _ => q,
        };
        if (!string.IsNullOrWhiteSpace(filter.PatientId)) q = q.Where(e => e.PatientId == filter.PatientId.Trim());
        int total = await q.CountAsync(token);
        var page = await q.OrderByDescending(e => e.CreatedUtc).Skip(filter.Skip).Take(Math.Clamp(filter.Take, 1, 500))
            .Include(e => e.Photographs).ThenInclude(c => c.Predictions).AsSplitQuery().ToListAsync(token);
        return (page, total);
    }

    /// <summary>Per doctor, over the confirmed exams this viewer may see: grade agreement per eye and decision agreement per exam.</summary>
    public async Task<IReadOnlyList<DoctorAgreement>> AgreementAsync(ClaimsPrincipal viewer, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var confirmed = await Visible(db.Exams.AsNoTracking(), viewer, cases.SeesOthersCases(viewer)).Where(e => e.ConfirmedUtc != null)
            .Include(e => e.Photographs).ThenInclude(c => c.Predictions).AsSplitQuery().ToListAsync(token);
        return confirmed.GroupBy(e => e.ConfirmedBy ?? "(not recorded)").OrderBy(g => g.Key, StringComparer.OrdinalIgnoreCase).Select(g =>
        {
            var pairs = new List<(int Doctor, int Model)>();
            foreach (var exam in g)
            {
                var (left, right) = ExamService.Eyes(exam);
                if (exam.DoctorGradeLeft is { } dl && left.Grade is { } ml) pairs.Add((dl, ml));
                if (exam.DoctorGradeRight is { } dr && right.Grade is { } mr) pairs.Add((dr, mr));
            }
            double? kappa = pairs.Count < 2 ? null : ConfusionMatrix.From(pairs).QuadraticWeightedKappa;
            return new DoctorAgreement(g.Key, pairs.Count, pairs.Count(p => p.Doctor == p.Model), kappa is double k && double.IsFinite(k) ? k : null,
                g.Count(), g.Count(e => e.DoctorRefer == e.ModelRefer));
        }).ToList();
    }

    internal static IQueryable<Exam> Visible(IQueryable<Exam> exams, ClaimsPrincipal viewer, bool seesOthers)
    {
        if (seesOthers) return exams;
        string name = viewer.Identity?.Name ?? "";
        return exams.Where(e => e.CreatedBy == name);
    }
}
