using DrWeb.Ml.Data;
using DrWeb.Server.Platform.Database;

namespace DrWeb.Server.Exams;

/// <summary>One photograph of an exam as the API and the report show it; the image links are the screening API's.</summary>
public sealed record ExamPhotographView(Guid CaseId, string FileName, string? Eye, string? Field, string? QualityVerdict,
    IReadOnlyList<string> QualityReasons, bool Gradable, int? Grade, string? GradeName, float[]? Probabilities,
    float? ReferableProbability, bool? Referable, string? ReferableRule, double? ReferralThreshold, string? ModelVersion,
    string OriginalUrl, string OverlayUrl, string ModelViewUrl);

/// <summary>One eye's combined result.</summary>
public sealed record ExamEyeView(string Status, int? Grade, string? GradeName, double? ReferableProbability, bool? Referable,
    IReadOnlyList<Guid> Photographs);

public sealed record ExamRecommendationView(bool Refer, int FollowUpMonths, string Action, string Reason, string GuidelineSource);

public sealed record ExamDoctorView(int? GradeLeft, int? GradeRight, bool Refer, bool AgreesWithModel, string? Comment,
    string? ConfirmedBy, DateTimeOffset ConfirmedUtc);

/// <summary>The exam as <c>GET /api/exams/{id}</c> returns it.</summary>
public sealed record ExamView(Guid Id, string? PatientId, DateOnly ExamDate, string? Site, string? Camera, string? CreatedBy,
    DateTimeOffset CreatedUtc, string Status, ExamRecommendationView? Recommendation, ExamEyeView Left, ExamEyeView Right,
    ExamDoctorView? Doctor, IReadOnlyList<ExamPhotographView> Photographs, string ReportUrl, string ReportPdfUrl, string FhirUrl)
{
    public static ExamView Of(Exam exam)
    {
        var (left, right) = ExamService.Eyes(exam);
        return new ExamView(exam.Id, exam.PatientId, exam.ExamDate, exam.Site, exam.Camera, exam.CreatedBy, exam.CreatedUtc,
            StatusName(exam.Status),
            exam.ModelRefer is { } refer
                ? new ExamRecommendationView(refer, exam.ModelFollowUpMonths ?? 0, exam.ModelAction ?? "", exam.ModelReason ?? "", exam.GuidelineSource ?? "")
                : null,
            Eye(left, exam, EyeSide.Left), Eye(right, exam, EyeSide.Right),
            exam.ConfirmedUtc is { } at
                ? new ExamDoctorView(exam.DoctorGradeLeft, exam.DoctorGradeRight, exam.DoctorRefer == true, exam.DoctorRefer == exam.ModelRefer,
                    exam.DoctorComment, exam.ConfirmedBy, at)
                : null,
            exam.Photographs.OrderBy(c => c.Eye ?? "~").ThenBy(c => c.CreatedUtc).Select(Photograph).ToList(),
            $"/exams/{exam.Id}/report", $"/api/exams/{exam.Id}/report.pdf", $"/api/exams/{exam.Id}/fhir");
    }

    public static string StatusName(ExamStatus status) => status switch
    {
        ExamStatus.AwaitingConfirmation => "awaiting-confirmation",
        ExamStatus.Confirmed => "confirmed",
        _ => "referred",
    };

    public static string EyeStatusName(EyeStatus status) => status switch
    {
        EyeStatus.Graded => "graded",
        EyeStatus.Ungradable => "ungradable",
        _ => "not-imaged",
    };

    private static ExamEyeView Eye(EyeResult eye, Exam exam, EyeSide side) =>
        new(EyeStatusName(eye.Status), eye.Grade, eye.Grade is { } g ? DrGrade.Name(g) : null, eye.ReferableProbability, eye.Referable,
            exam.Photographs.Where(c => c.Eye == side.ToString().ToLowerInvariant()).Select(c => c.Id).ToList());

    public static ExamPhotographView Photograph(Case c)
    {
        var p = c.Predictions.OrderByDescending(x => x.CreatedUtc).FirstOrDefault();
        return new ExamPhotographView(c.Id, c.FileName, c.Eye, c.Field, c.QualityVerdict, c.QualityReasons?.Split('\n') ?? [], c.Gradable,
            p?.Grade, p is null ? null : DrGrade.Name(p.Grade), p?.Probabilities, p?.ReferableProbability, p?.Referable, p?.ReferableRule,
            p?.ReferralThreshold, p?.ModelVersion,
            $"/api/screenings/{c.Id}/original", $"/api/screenings/{c.Id}/overlay", $"/api/screenings/{c.Id}/model-view");
    }
}
