namespace DrWeb.Server.Platform.Database;

/// <summary>
/// One patient visit: photographs of the left and right eye (each a <see cref="Case"/>), the model's patient-level
/// recommendation, and the doctor's confirmation. Personal data is kept to the clinic's patient identifier: no name,
/// birth date or address is asked for or stored.
/// </summary>
public sealed class Exam
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>The clinic's patient identifier, if given. Never logged.</summary>
    public string? PatientId { get; set; }

    /// <summary>The day the photographs were taken (the upload's day unless the doctor says otherwise).</summary>
    public DateOnly ExamDate { get; set; }

    public string? Site { get; set; }
    public string? Camera { get; set; }

    /// <summary>The e-mail of the user who made the exam.</summary>
    public string? CreatedBy { get; set; }

    /// <summary>
    /// The photographs are still being graded: until then the exam is nobody's to see, decide or confirm (it is
    /// removed if a photograph is refused).
    /// </summary>
    public bool Grading { get; set; }

    /// <summary>The model's recommendation: refer (true) or rescreen (false); null on an exam migrated from a single screening until it is first opened.</summary>
    public bool? ModelRefer { get; set; }

    public int? ModelFollowUpMonths { get; set; }

    /// <summary>The guideline row's action text, as it read when the recommendation was made.</summary>
    public string? ModelAction { get; set; }

    /// <summary>Why: each eye's result in one sentence.</summary>
    public string? ModelReason { get; set; }

    /// <summary>The guideline the recommendation followed, as configured when it was made.</summary>
    public string? GuidelineSource { get; set; }

    /// <summary>The model's grade of the left eye (the highest over its gradable photographs); null when ungradable or not imaged.</summary>
    public int? ModelGradeLeft { get; set; }

    public int? ModelGradeRight { get; set; }

    /// <summary>The doctor's own grade of the left eye (0-4), recorded at confirmation.</summary>
    public int? DoctorGradeLeft { get; set; }

    public int? DoctorGradeRight { get; set; }

    /// <summary>The doctor's decision: refer (true) or rescreen (false); equal to <see cref="ModelRefer"/> when confirmed as is.</summary>
    public bool? DoctorRefer { get; set; }

    public string? DoctorComment { get; set; }
    public string? ConfirmedBy { get; set; }
    public DateTimeOffset? ConfirmedUtc { get; set; }

    public List<Case> Photographs { get; set; } = [];

    public ExamStatus Status => ConfirmedUtc is null ? ExamStatus.AwaitingConfirmation
        : DoctorRefer == true ? ExamStatus.Referred : ExamStatus.Confirmed;

    /// <summary>The decision that stands: the doctor's once confirmed, else the model's.</summary>
    public bool? Refer => ConfirmedUtc is null ? ModelRefer : DoctorRefer;
}

/// <summary>Where an exam stands: the doctor has not yet confirmed it, confirmed a rescreen, or referred the patient.</summary>
public enum ExamStatus
{
    AwaitingConfirmation,
    Confirmed,
    Referred,
}
