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

    /// <summary>
    /// Per doctor, over the confirmed exams this viewer may see: grade agreement per eye and decision agreement per exam.
    /// Counted in the database from the grades stored with each exam, so it costs the same for ten exams or a million.
    /// </summary>
    public async Task<IReadOnlyList<DoctorAgreement>> AgreementAsync(ClaimsPrincipal viewer, CancellationToken token = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var confirmed = Visible(db.Exams.AsNoTracking(), viewer, cases.SeesOthersCases(viewer)).Where(e => e.ConfirmedUtc != null);
        var decisions = await confirmed.GroupBy(e => e.ConfirmedBy)
            .Select(g => new { Doctor = g.Key, Exams = g.Count(), Same = g.Count(e => e.DoctorRefer == e.ModelRefer) }).ToListAsync(token);
        var left = await confirmed.Where(e => e.DoctorGradeLeft != null && e.ModelGradeLeft != null)
            .GroupBy(e => new { e.ConfirmedBy, Doctor = e.DoctorGradeLeft!.Value, Model = e.ModelGradeLeft!.Value })
            .Select(g => new { g.Key.ConfirmedBy, g.Key.Doctor, g.Key.Model, Count = g.Count() }).ToListAsync(token);
        var right = await confirmed.Where(e => e.DoctorGradeRight != null && e.ModelGradeRight != null)
            .GroupBy(e => new { e.ConfirmedBy, Doctor = e.DoctorGradeRight!.Value, Model = e.ModelGradeRight!.Value })
            .Select(g => new { g.Key.ConfirmedBy, g.Key.Doctor, g.Key.Model, Count = g.Count() }).ToListAsync(token);
        var eyes = left.Concat(right).ToList();
        return decisions.OrderBy(d => d.Doctor, StringComparer.OrdinalIgnoreCase).Select(d =>
        {
            var matrix = new ConfusionMatrix();
            foreach (var cell in eyes.Where(e => e.ConfirmedBy == d.Doctor))
                for (int i = 0; i < cell.Count; i++) matrix.Add(cell.Doctor, cell.Model);
            double kappa = matrix.QuadraticWeightedKappa;
            return new DoctorAgreement(d.Doctor ?? "(not recorded)", matrix.Total, matrix.Accuracy.Numerator,
                matrix.Total >= 2 && double.IsFinite(kappa) ? kappa : null, d.Exams, d.Same);
        }).ToList();
    }

    /// <summary>The exams a viewer may see: finished grading, and their own unless they see everyone's.</summary>
    internal static IQueryable<Exam> Visible(IQueryable<Exam> exams, ClaimsPrincipal viewer, bool seesOthers)
    {
        exams = exams.Where(e => !e.Grading);
        if (seesOthers) return exams;
        string name = viewer.Identity?.Name ?? "";
        return exams.Where(e => e.CreatedBy == name);
    }
}
