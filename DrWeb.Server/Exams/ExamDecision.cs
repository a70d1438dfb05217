using System.Globalization;

namespace DrWeb.Server.Exams;

/// <summary>Which eye a photograph shows.</summary>
public enum EyeSide
{
    Left,
    Right,
}

/// <summary>Whether an eye could be graded.</summary>
public enum EyeStatus
{
    Graded,

    /// <summary>Photographed, but no photograph passed the quality gate.</summary>
    Ungradable,

    /// <summary>No photograph of this eye in the exam.</summary>
    NotImaged,
}

/// <summary>One photograph of an eye as the eye-level rule needs it; <paramref name="Referable"/> is its stored decision, if any.</summary>
public sealed record PhotographResult(bool Gradable, int Grade, double ReferableProbability, bool? Referable = null);

/// <summary>
/// An eye's result from its photographs (fields). The rule: only gradable photographs count; the eye's P(referable) is
/// the highest of theirs (a lesion seen in one field is enough), its decision that probability against the model's
/// recorded threshold, and its grade the highest grade among them. No gradable photograph: ungradable.
/// </summary>
public sealed record EyeResult(EyeStatus Status, int? Grade, double? ReferableProbability, bool? Referable)
{
    public static readonly EyeResult NotImaged = new(EyeStatus.NotImaged, null, null, null);
    public static readonly EyeResult Ungradable = new(EyeStatus.Ungradable, null, null, null);

    public static EyeResult Graded(int grade, double referableProbability, bool referable) =>
        new(EyeStatus.Graded, grade, referableProbability, referable);

    public static EyeResult Combine(IReadOnlyCollection<PhotographResult> photographs, double threshold)
    {
        if (photographs.Count == 0) return NotImaged;
        var gradable = photographs.Where(p => p.Gradable).ToList();
        if (gradable.Count == 0) return Ungradable;
        double p = gradable.Max(x => x.ReferableProbability);
        return Graded(gradable.Max(x => x.Grade), p, p >= threshold);
    }

    /// <summary>
    /// The same rule over decisions already stored with each photograph: each was made at the threshold recorded with
    /// it, so the highest probability against one threshold is "any gradable photograph referable".
    /// </summary>
    public static EyeResult Combine(IReadOnlyCollection<PhotographResult> photographs)
    {
        if (photographs.Count == 0) return NotImaged;
        var gradable = photographs.Where(p => p.Gradable).ToList();
        if (gradable.Count == 0) return Ungradable;
        return Graded(gradable.Max(x => x.Grade), gradable.Max(x => x.ReferableProbability), gradable.Any(x => x.Referable == true));
    }
}

/// <summary>What the programme should do for the patient, with the row of the guideline it comes from.</summary>
public sealed record PatientRecommendation(bool Refer, int FollowUpMonths, string Action, string Reason, string Source);

/// <summary>
/// The patient-level result: refer if either eye is referable, ungradable or not imaged; otherwise rescreen. The
/// action and interval are the guideline row of the worse eye (a referral before a rescreen, then the shorter
/// follow-up, then the higher grade). The referral decision is the model's threshold on P(referable), not its argmax grade, so where the two
/// disagree the row follows the decision: a referable eye whose grade is below the first referred grade gets that
/// grade's row, and an eye not referred whose grade is above the last rescreened grade gets that one's.
/// </summary>
public static class PatientDecision
{
    public static PatientRecommendation Decide(EyeResult left, EyeResult right, ReferralGuideline guideline)
    {
        if (guideline.Problem() is { } problem) throw new InvalidOperationException(problem);
        var l = RowOf(left, guideline);
        var r = RowOf(right, guideline);
        var worse = new[] { (Eye: EyeSide.Right, Row: r), (Eye: EyeSide.Left, Row: l) }
            .OrderByDescending(x => x.Row.Refer).ThenBy(x => x.Row.FollowUpMonths).ThenByDescending(x => x.Row.Grade).First();
        string reason = $"Right eye: {Describe(right)}; left eye: {Describe(left)}.";
        return new PatientRecommendation(l.Refer || r.Refer, worse.Row.FollowUpMonths, worse.Row.Action, reason, guideline.Source);
    }

    internal static GradeAction RowOf(EyeResult eye, ReferralGuideline guideline)
    {
        if (eye.Status != EyeStatus.Graded) return guideline.Ungradable;
        int grade = eye.Grade!.Value;
        var ordered = guideline.Grades.OrderBy(g => g.Grade).ToList();
        if (eye.Referable == true)
            return guideline.For(Math.Max(grade, ordered.First(g => g.Refer).Grade));
        var rescreened = ordered.Where(g => !g.Refer).ToList();
        return rescreened.Count == 0 ? guideline.For(grade) : guideline.For(Math.Min(grade, rescreened[^1].Grade));
    }

    private static string Describe(EyeResult eye) => eye.Status switch
    {
        EyeStatus.NotImaged => "not photographed",
        EyeStatus.Ungradable => "no gradable photograph",
        _ => string.Create(CultureInfo.InvariantCulture,
            $"grade {eye.Grade}, P(referable) {eye.ReferableProbability:0.00}, {(eye.Referable == true ? "referable" : "not referable")}"),
    };
}
