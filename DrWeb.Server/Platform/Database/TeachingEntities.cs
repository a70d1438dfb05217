namespace DrWeb.Server.Platform.Database;

/// <summary>One evaluated image: what it is, what the model said, and where it looked for each answer.</summary>
public sealed class EvaluationCase
{
    public long Id { get; set; }
    public Guid EvaluationId { get; set; }
    public ModelEvaluation? Evaluation { get; set; }

    /// <summary>The image's id in its dataset, e.g. <c>10007_left</c>.</summary>
    public required string ImageId { get; set; }

    /// <summary>SHA-256 of the photograph in the image store (copied there, so the gallery outlives the dataset).</summary>
    public required string ImageHash { get; set; }
    public string? PatientId { get; set; }
    public string? Eye { get; set; }
    public int TrueGrade { get; set; }
    public int PredictedGrade { get; set; }
    public float P0 { get; set; }
    public float P1 { get; set; }
    public float P2 { get; set; }
    public float P3 { get; set; }
    public float P4 { get; set; }

    /// <summary>Whether the model referred this eye at its operating point when the evaluation was made; null on rows made before operating points (then the most likely grade decides).</summary>
    public bool? Referred { get; set; }

    /// <summary>Overlay PNGs in the image store: Grad-CAM of the predicted grade and of the true grade.</summary>
    public required string HeatmapPredictedHash { get; set; }
    public required string HeatmapTrueHash { get; set; }
    public required string CamLayer { get; set; }

    /// <summary>PNG of the picture the model was given (crop and colour recipe at its input size); null on rows made before it was kept.</summary>
    public string? ModelViewHash { get; set; }

    /// <summary>How that picture was made from the photograph, in one sentence.</summary>
    public string? ModelViewNote { get; set; }

    /// <summary>The overlays are drawn on the model's view (a cropping model) rather than on the original photograph.</summary>
    public bool HeatmapOnModelView { get; set; }

    /// <summary>The image-quality gate's verdict on the photograph (Good, Usable, Ungradable); null on older rows.</summary>
    public string? QualityVerdict { get; set; }

    /// <summary>The gate's reasons, one per line.</summary>
    public string? QualityReasons { get; set; }

    public float[] Probabilities => [P0, P1, P2, P3, P4];
    public bool Correct => TrueGrade == PredictedGrade;
}

/// <summary>An educator's note on a gallery case.</summary>
public sealed class CaseNote
{
    public long Id { get; set; }
    public long EvaluationCaseId { get; set; }
    public required string Author { get; set; }
    public required string Text { get; set; }
    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;
}

/// <summary>An ordered set of gallery cases with a title and notes, for teaching and quizzes.</summary>
public sealed class Lesson
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public required string Title { get; set; }
    public string? Notes { get; set; }
    public string? Owner { get; set; }
    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;
    public List<LessonItem> Items { get; set; } = [];
}

/// <summary>One case in a lesson, in its place, with what the class answered when it was presented.</summary>
public sealed class LessonItem
{
    public long Id { get; set; }
    public Guid LessonId { get; set; }

    /// <summary>A gallery case; null for a lesion atlas case.</summary>
    public long? EvaluationCaseId { get; set; }
    public EvaluationCase? Case { get; set; }

    /// <summary>A lesion atlas photograph's id (its file name without extension); null for a gallery case.</summary>
    public string? AtlasCaseId { get; set; }
    public int Position { get; set; }
    public string? Notes { get; set; }

    /// <summary>The grade the class guessed in the last presentation, if the educator recorded it.</summary>
    public int? ClassAnswer { get; set; }
}
