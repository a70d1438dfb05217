using System.Globalization;
using DrWeb.Ml.Data;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Registry;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Exams;

/// <summary>One eye on the report.</summary>
/// <param name="Heatmap">A small PNG or JPEG of the heatmap of the eye's decisive photograph (its highest P(referable)), if any.</param>
public sealed record ReportEye(string Title, string Status, string Grade, string ReferableProbability, string Decision, string Quality,
    int Photographs, byte[]? Heatmap, string? HeatmapType);

/// <summary>
/// Everything the one-page clinical report says, gathered once so that the printable page and the PDF say the same thing.
/// </summary>
/// <param name="Decision">The decision that stands: the doctor's once confirmed, else the model's recommendation.</param>
/// <param name="ModelRecommendation">The model's recommendation when a doctor's decision stands above it; else null.</param>
/// <param name="GuidelineNow">The referral table as configured when the report is made, and its source.</param>
public sealed record ExamReport(Guid ExamId, string PatientId, string ExamDate, string? Site, string? Camera, ReportEye Right, ReportEye Left,
    string Decision, string? ModelRecommendation, bool Refer, string Reason, string GuidelineSource, IReadOnlyList<ReportGuidelineRow> GuidelineNow,
    string GuidelineNowSource, string ModelVersion, string OperatingPoint, string Confirmation, string Disclaimer, string Generated)
{
    public const string Title = "Diabetic retinopathy screening report";

    /// <summary>The longest doctor's comment the one page holds; the full comment stays in DrWeb.</summary>
    public const int CommentLength = 300;
}

/// <summary>One row of the referral table as the report prints it.</summary>
public sealed record ReportGuidelineRow(string Eye, string Action);

/// <summary>Builds <see cref="ExamReport"/>s from stored exams, and renders them as PDF (<see cref="ExamReportPdf"/>).</summary>
public sealed class ExamReports(IDbContextFactory<DrWebDbContext> dbFactory, OperatingPoints operatingPoints, DisplayImages images,
    Microsoft.Extensions.Options.IOptions<ReferralGuideline> guideline)
{
    private const int HeatmapSide = 320;

    public async Task<ExamReport> BuildAsync(Exam exam, CancellationToken token = default)
    {
        var (left, right) = ExamService.Eyes(exam);
        var graded = exam.Photographs.Where(c => c.Predictions.Count > 0).Select(c => c.Predictions.OrderByDescending(p => p.CreatedUtc).First()).ToList();
        var versions = graded.Select(p => p.ModelVersion).Distinct().ToList();
        string operatingPoint = await OperatingPointAsync(graded, token);
        string confirmation = exam.ConfirmedUtc is { } at
            ? string.Create(CultureInfo.InvariantCulture,
                $"{(exam.DoctorRefer == exam.ModelRefer ? "Confirmed" : "Overridden")} by {exam.ConfirmedBy} on {at.UtcDateTime:yyyy-MM-dd HH:mm} UTC: {(exam.DoctorRefer == true ? "refer" : "rescreen")}. Doctor's grades: right {GradeText(exam.DoctorGradeRight)}, left {GradeText(exam.DoctorGradeLeft)}.{(exam.DoctorComment is { } c ? $" Comment: {Clamp(c)}" : "")}")
            : "Awaiting the doctor's confirmation: the recommendation below is the model's alone.";
        return new ExamReport(exam.Id, exam.PatientId ?? "(not given)", exam.ExamDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            exam.Site, exam.Camera, Eye("Right eye (OD)", right, exam, EyeSide.Right), Eye("Left eye (OS)", left, exam, EyeSide.Left),
            Decision(exam), exam.ConfirmedUtc is null ? null : $"The model recommended: {exam.ModelAction}", exam.Refer == true, exam.ModelReason ?? "",
            exam.GuidelineSource ?? "", GuidelineRows(guideline.Value), guideline.Value.Source, versions.Count == 0 ? "(none)" : string.Join("; ", versions), operatingPoint, confirmation,
            "Not for clinical use. DrWeb is research and teaching software, not a certified medical device, and its model is a demonstration model. A clinician must confirm every result.",
            DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
    }

    /// <summary>The PDF of the exam's report.</summary>
    public async Task<byte[]> PdfAsync(Exam exam, CancellationToken token = default) => ExamReportPdf.Render(await BuildAsync(exam, token));

    private ReportEye Eye(string title, EyeResult eye, Exam exam, EyeSide side)
    {
        var photos = exam.Photographs.Where(c => c.Eye == side.ToString().ToLowerInvariant() && c.Predictions.Count > 0).ToList();
        string quality = photos.Count == 0 ? "-" : string.Join(", ", photos.Select(c => c.QualityVerdict ?? "not assessed"));
        var decisive = photos.OrderByDescending(c => c.Gradable)
            .ThenByDescending(c => c.Predictions.OrderByDescending(p => p.CreatedUtc).First().ReferableProbability).FirstOrDefault();
        byte[]? heatmap = null;
        string? type = null;
        if (decisive is not null)
            (heatmap, type) = images.ForDisplay(decisive.Predictions.OrderByDescending(p => p.CreatedUtc).First().OverlayHash, HeatmapSide);
        return eye.Status switch
        {
            EyeStatus.Graded => new ReportEye(title, "Graded", $"{eye.Grade} ({DrGrade.Name(eye.Grade!.Value)})",
                eye.ReferableProbability!.Value.ToString("0.00", CultureInfo.InvariantCulture),
                eye.Referable == true ? "Referable" : "Not referable", quality, photos.Count, heatmap, type),
            EyeStatus.Ungradable => new ReportEye(title, "Ungradable: re-image or refer", "-", "-", "Ungradable", quality, photos.Count, heatmap, type),
            _ => new ReportEye(title, "Not photographed", "-", "-", "Not imaged", "-", 0, null, null),
        };
    }

    /// <summary>The rule the photographs were graded with and the validation figures of the model version's operating point at that threshold.</summary>
    private async Task<string> OperatingPointAsync(IReadOnlyList<Prediction> graded, CancellationToken token)
    {
        var first = graded.FirstOrDefault();
        if (first is null) return "(no photograph graded)";
        if (first.ReferralThreshold is not { } threshold) return "Referable when the predicted grade is 2 or higher (the model has no recorded threshold).";
        await using var db = await dbFactory.CreateDbContextAsync(token);
        var versions = await db.ModelVersions.AsNoTracking().ToListAsync(token);
        OperatingPoint? point = null;
        if (versions.FirstOrDefault(v => v.DisplayName == first.ModelVersion || v.Name == first.ModelVersion) is { } version
            && (await operatingPoints.OperatingPointAsync(version.Id, token))?.Current is { } current && Math.Abs(current.Threshold - threshold) < 1e-9)
            point = current;
        string rule = string.Create(CultureInfo.InvariantCulture, $"Referable when P(referable) >= {threshold:0.00}");
        return point is null
            ? $"{rule}; the stored rule reads: {first.ReferableRule}"
            : string.Create(CultureInfo.InvariantCulture,
                $"{rule}, {point.Basis}: validation sensitivity {point.Sensitivity.Value:0.00} ({point.Sensitivity.Numerator}/{point.Sensitivity.Denominator}), specificity {point.Specificity.Value:0.00} ({point.Specificity.Numerator}/{point.Specificity.Denominator}).");
    }

    private static string Decision(Exam exam) => exam.ConfirmedUtc is null
        ? exam.ModelAction ?? "No recommendation: the exam has no graded photograph."
        : $"{(exam.DoctorRefer == true ? "Refer" : "Rescreen")}: the doctor's decision, {(exam.DoctorRefer == exam.ModelRefer ? "confirming" : "overriding")} the model";

    /// <summary>The table as configured now; the recommendation above quotes the row it was made with.</summary>
    private static List<ReportGuidelineRow> GuidelineRows(ReferralGuideline table) =>
        table.Grades.OrderBy(g => g.Grade).Select(g => new ReportGuidelineRow($"Grade {g.Grade}", g.Action))
            .Append(new ReportGuidelineRow("Ungradable or not photographed", table.Ungradable.Action)).ToList();

    private static string Clamp(string comment) =>
        comment.Length <= ExamReport.CommentLength ? comment : $"{comment[..ExamReport.CommentLength].TrimEnd()}… (the full comment is in DrWeb)";

    private static string GradeText(int? grade) => grade is { } g ? $"{g} ({DrGrade.Name(g)})" : "-";
}
