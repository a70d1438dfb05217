using DrWeb.Server.Exams;

namespace DrWeb.Tests.Server.Exams;

public class PatientDecisionTests
{
    private static readonly ReferralGuideline Ico = ReferralGuideline.Default();

    /// <summary>An eye outcome of the truth table: a grade 0-4 (referable exactly when grade >= 2), ungradable or missing.</summary>
    public static readonly string[] Outcomes = ["0", "1", "2", "3", "4", "ungradable", "missing"];

    private static EyeResult Eye(string outcome) => outcome switch
    {
        "ungradable" => EyeResult.Ungradable,
        "missing" => EyeResult.NotImaged,
        _ => EyeResult.Graded(int.Parse(outcome), int.Parse(outcome) >= 2 ? 0.9 : 0.1, int.Parse(outcome) >= 2),
    };

    /// <summary>The documented rows, written out: (refer, months) per eye outcome under the default ICO table.</summary>
    private static (bool Refer, int Months) Documented(string outcome) => outcome switch
    {
        "0" or "1" => (false, 12),
        "2" => (true, 6),
        "3" => (true, 3),
        _ => (true, 1),
    };

    public static TheoryData<string, string> EveryPair()
    {
        var data = new TheoryData<string, string>();
        foreach (string right in Outcomes)
            foreach (string left in Outcomes)
                data.Add(right, left);
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public void Every_pair_of_eye_outcomes_gives_the_documented_decision_and_interval(string right, string left)
    {
        var decision = PatientDecision.Decide(Eye(left), Eye(right), Ico);
        var (r, l) = (Documented(right), Documented(left));
        Assert.Equal(r.Refer || l.Refer, decision.Refer);
        int expectedMonths = r.Refer == l.Refer ? Math.Min(r.Months, l.Months) : r.Refer ? r.Months : l.Months;
        Assert.Equal(expectedMonths, decision.FollowUpMonths);
        Assert.Equal(Ico.Source, decision.Source);
        Assert.StartsWith("Right eye: ", decision.Reason);
    }

    [Fact]
    public void The_actions_name_the_guideline_row_and_the_reason_names_both_eyes()
    {
        var proliferative = PatientDecision.Decide(EyeResult.Graded(0, 0.05, false), EyeResult.Graded(4, 0.97, true), Ico);
        Assert.True(proliferative.Refer);
        Assert.Equal("Proliferative DR: refer urgently; seen within 1 month", proliferative.Action);
        Assert.Equal("Right eye: grade 4, P(referable) 0.97, referable; left eye: grade 0, P(referable) 0.05, not referable.", proliferative.Reason);

        var healthy = PatientDecision.Decide(EyeResult.Graded(1, 0.2, false), EyeResult.Graded(0, 0.1, false), Ico);
        Assert.False(healthy.Refer);
        Assert.Equal(12, healthy.FollowUpMonths);
        Assert.StartsWith("Mild NPDR", healthy.Action);

        var oneMissing = PatientDecision.Decide(EyeResult.NotImaged, EyeResult.Graded(0, 0.1, false), Ico);
        Assert.True(oneMissing.Refer);
        Assert.Contains("left eye: not photographed", oneMissing.Reason);
        Assert.StartsWith("Ungradable: re-image", oneMissing.Action);
    }

    [Fact]
    public void Where_the_threshold_and_the_argmax_grade_disagree_the_row_follows_the_referral_decision()
    {
        // Grade 1 by argmax but P(referable) above the model's threshold: referred, on the first referred grade's row.
        var referred = PatientDecision.Decide(EyeResult.Graded(1, 0.4, true), EyeResult.Graded(0, 0.1, false), Ico);
        Assert.True(referred.Refer);
        Assert.Equal(6, referred.FollowUpMonths);
        // Grade 3 by argmax but below the threshold: not referred, on the last rescreened grade's row.
        var rescreened = PatientDecision.Decide(EyeResult.Graded(3, 0.2, false), EyeResult.Graded(0, 0.1, false), Ico);
        Assert.False(rescreened.Refer);
        Assert.Equal(12, rescreened.FollowUpMonths);
    }

    [Fact]
    public void An_eye_takes_the_highest_probability_and_grade_of_its_gradable_fields_and_is_ungradable_without_one()
    {
        var eye = EyeResult.Combine([new PhotographResult(true, 1, 0.25), new PhotographResult(true, 2, 0.35), new PhotographResult(false, 4, 0.99)], threshold: 0.3);
        Assert.Equal(EyeResult.Graded(2, 0.35, true), eye);
        Assert.Equal(EyeResult.Graded(1, 0.25, false), EyeResult.Combine([new PhotographResult(true, 1, 0.25)], threshold: 0.3));
        Assert.Equal(EyeResult.Ungradable, EyeResult.Combine([new PhotographResult(false, 0, 0.1)], threshold: 0.3));
        Assert.Equal(EyeResult.NotImaged, EyeResult.Combine([], threshold: 0.3));
    }

    [Fact]
    public void A_configured_table_with_a_missing_grade_or_referral_that_stops_is_refused_with_the_reason()
    {
        var gap = new ReferralGuideline { Grades = Ico.Grades.Where(g => g.Grade != 3).ToList() };
        Assert.Contains("exactly one row for each grade 0-4", gap.Problem());
        var backwards = new ReferralGuideline
        {
            Grades = Ico.Grades.Select(g => new GradeAction { Grade = g.Grade, Refer = g.Grade == 2, FollowUpMonths = 6, Action = "x" }).ToList(),
        };
        Assert.Contains("must not stop", backwards.Problem());
        Assert.Throws<InvalidOperationException>(() => PatientDecision.Decide(EyeResult.NotImaged, EyeResult.NotImaged, gap));
        Assert.Null(Ico.Problem());
    }
}
