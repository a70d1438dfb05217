namespace DrWeb.Server.Exams;

/// <summary>What a programme does for one DR grade: refer (and how urgently) or rescreen (and when).</summary>
public sealed class GradeAction
{
    public int Grade { get; set; }

    /// <summary>True: refer to an ophthalmologist; false: rescreen in <see cref="FollowUpMonths"/>.</summary>
    public bool Refer { get; set; }

    /// <summary>Months until the next examination (rescreen) or within which the patient should be seen (referral).</summary>
    public int FollowUpMonths { get; set; }

    /// <summary>What the report says, e.g. "Rescreen in 12 months" or "Refer urgently: seen within 1 month".</summary>
    public string Action { get; set; } = "";
}

/// <summary>
/// The referral and rescreening table that turns eye results into a patient recommendation (<c>DrWeb:Exams:Guideline</c>).
/// Programmes differ, so it is configuration; the default follows the follow-up schedule of the ICO Guidelines for
/// Diabetic Eye Care (International Council of Ophthalmology, updated 2017) for settings with an ophthalmologist to refer
/// to, and is shown with its source on every report.
/// </summary>
public sealed class ReferralGuideline
{
    public string Source { get; set; } = "ICO Guidelines for Diabetic Eye Care, International Council of Ophthalmology, updated 2017 (follow-up schedule)";

    /// <summary>One row per grade 0-4; empty in configuration means <see cref="IcoFollowUp"/>.</summary>
    public List<GradeAction> Grades { get; set; } = [];

    /// <summary>
    /// The default rows. Not the property's initial value: the configuration binder appends to a list it finds filled,
    /// so a programme's own table would be added to these instead of replacing them.
    /// </summary>
    public static IReadOnlyList<GradeAction> IcoFollowUp { get; } =
    [
        new() { Grade = 0, Refer = false, FollowUpMonths = 12, Action = "No apparent retinopathy: rescreen in 12 months (ICO: 1-2 years)" },
        new() { Grade = 1, Refer = false, FollowUpMonths = 12, Action = "Mild NPDR: rescreen in 12 months (ICO: 1-2 years)" },
        new() { Grade = 2, Refer = true, FollowUpMonths = 6, Action = "Moderate NPDR: refer; seen within 6 months (ICO: 6-12 months)" },
        new() { Grade = 3, Refer = true, FollowUpMonths = 3, Action = "Severe NPDR: refer urgently; seen within 3 months" },
        new() { Grade = 4, Refer = true, FollowUpMonths = 1, Action = "Proliferative DR: refer urgently; seen within 1 month" },
    ];

    /// <summary>The ICO table, for tests and for the options' default.</summary>
    public static ReferralGuideline Default() => new() { Grades = IcoFollowUp.Select(g => new GradeAction
    {
        Grade = g.Grade, Refer = g.Refer, FollowUpMonths = g.FollowUpMonths, Action = g.Action,
    }).ToList() };

    /// <summary>An eye with no gradable photograph, or not photographed at all.</summary>
    public GradeAction Ungradable { get; set; } = new()
    {
        Grade = -1, Refer = true, FollowUpMonths = 1,
        Action = "Ungradable: re-image now, or refer for examination within 1 month",
    };

    public const int MaxText = 500;

    public GradeAction For(int grade) =>
        Grades.FirstOrDefault(g => g.Grade == grade)
        ?? throw new InvalidOperationException($"DrWeb:Exams:Guideline has no row for grade {grade}; it needs one for each grade 0-4.");

    /// <summary>Why the table cannot be used, or null: every grade 0-4 once, months positive, referral monotone in grade.</summary>
    public string? Problem()
    {
        var grades = Grades.Select(g => g.Grade).Order().ToList();
        if (!grades.SequenceEqual([0, 1, 2, 3, 4]))
            return $"DrWeb:Exams:Guideline must have exactly one row for each grade 0-4; it has {string.Join(", ", grades)}.";
        if (Grades.Append(Ungradable).Any(g => g.FollowUpMonths <= 0 || string.IsNullOrWhiteSpace(g.Action)))
            return "Every row of DrWeb:Exams:Guideline needs a follow-up in months above 0 and an action text.";
        // Each exam stores the row's action and the source with its recommendation, in columns of this size.
        if (Grades.Append(Ungradable).Any(g => g.Action.Length > MaxText) || string.IsNullOrWhiteSpace(Source) || Source.Length > MaxText)
            return $"DrWeb:Exams:Guideline needs a Source, and its Source and every Action must be at most {MaxText} characters.";
        var ordered = Grades.OrderBy(g => g.Grade).ToList();
        if (ordered.Zip(ordered.Skip(1)).Any(p => p.First.Refer && !p.Second.Refer))
            return "DrWeb:Exams:Guideline refers a grade but not a worse one; referral must not stop as the grade rises.";
        return null;
    }
}
