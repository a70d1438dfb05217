namespace DrWeb.Server.Platform.Database;

/// <summary>One uploaded fundus photograph and what was said about it.</summary>
public sealed class Case
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>SHA-256 of the original bytes; the file lives in the image store under this name.</summary>
    public required string ImageHash { get; set; }

    public required string FileName { get; set; }
    public required string Format { get; set; }
    public int Width { get; set; }
    public int Height { get; set; }

    /// <summary>The clinic's patient identifier, if given. Never logged.</summary>
    public string? PatientId { get; set; }

    /// <summary><c>left</c> or <c>right</c>, if given.</summary>
    public string? Eye { get; set; }

    /// <summary>The exam (patient visit) this photograph belongs to; a photograph screened on its own is a one-photo exam.</summary>
    public Guid? ExamId { get; set; }

    public Exam? Exam { get; set; }

    /// <summary>Which field the photograph shows: <c>macula</c>, <c>disc</c> or <c>other</c> (centred on), if given.</summary>
    public string? Field { get; set; }

    /// <summary>The uploading doctor's own grade, if given, for later comparison.</summary>
    public int? DoctorGrade { get; set; }

    /// <summary>The e-mail of the user who uploaded it; null only for cases stored before uploads recorded it.</summary>
    public string? UploadedBy { get; set; }

    /// <summary>The image-quality gate's verdict (Good, Usable, Ungradable); null for cases screened before the gate existed.</summary>
    public string? QualityVerdict { get; set; }

    /// <summary>The gate's reasons, one per line.</summary>
    public string? QualityReasons { get; set; }

    /// <summary>The doctor graded an image the gate called ungradable.</summary>
    public bool QualityOverridden { get; set; }

    /// <summary>Whether the photograph counts for its eye's result: the gate let it through, or the doctor overrode it.</summary>
    public bool Gradable => QualityVerdict != "Ungradable" || QualityOverridden;

    public List<Prediction> Predictions { get; set; } = [];
}

/// <summary>A model's grading of a case, stored as shown so that reopening never recomputes it.</summary>
public sealed class Prediction
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public Guid CaseId { get; set; }
    public Case? Case { get; set; }
    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>Which model graded it: folder name and label, e.g. <c>screening-resnet18 (demonstration model, ...)</c>.</summary>
    public required string ModelVersion { get; set; }

    public float P0 { get; set; }
    public float P1 { get; set; }
    public float P2 { get; set; }
    public float P3 { get; set; }
    public float P4 { get; set; }

    public int Grade { get; set; }
    public bool Referable { get; set; }
    public float ReferableProbability { get; set; }
    public required string ReferableRule { get; set; }

    /// <summary>The threshold on P(referable) this grading was decided with; it stays when the model's operating point moves. Null: the argmax-grade rule.</summary>
    public double? ReferralThreshold { get; set; }

    public required string CamLayer { get; set; }

    /// <summary>The CAM method that drew the heatmap (gradcam, hirescam, ...); rows made before the choice existed are Grad-CAM.</summary>
    public string CamMethod { get; set; } = "gradcam";

    /// <summary>What the heatmap explains: predicted, referable or a grade 0-4.</summary>
    public string CamTarget { get; set; } = "predicted";

    /// <summary>PNG of the picture the model was given (crop and colour recipe at its input size); null on rows made before it was kept.</summary>
    public string? ModelViewHash { get; set; }

    /// <summary>How that picture was made from the photograph, in one sentence.</summary>
    public string? ModelViewNote { get; set; }

    /// <summary>The overlays are drawn on the model's view (a cropping model) rather than on the original photograph.</summary>
    public bool HeatmapOnModelView { get; set; }

    /// <summary>SHA-256 of the overlay PNG in the image store.</summary>
    public required string OverlayHash { get; set; }

    public double DurationMs { get; set; }

    public float[] Probabilities => [P0, P1, P2, P3, P4];
}
