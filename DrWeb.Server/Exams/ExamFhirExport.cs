using System.Globalization;
using DrWeb.Ml.Data;
using DrWeb.Server.Platform.Database;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace DrWeb.Server.Exams;

/// <summary>
/// An exam as a FHIR R4 <c>collection</c> Bundle (Firely SDK): the Patient (identifier only), a DiagnosticReport with
/// the patient-level conclusion, one Observation per photographed eye with the DR severity (SNOMED CT where a code
/// exists, DrWeb's own code for every grade) and the probabilities as components, the model version as a Device, and
/// each photograph and heatmap as Media pointing at DrWeb's image endpoints. The mapping is tabled in the README.
/// </summary>
public sealed class ExamFhirExport
{
    public const string Snomed = "http://snomed.info/sct";
    public const string Loinc = "http://loinc.org";

    /// <summary>DrWeb's own grade codes (0-4 and ungradable); a receiving system may map them to its own.</summary>
    public const string GradeSystem = "urn:drweb:dr-grade";

    /// <summary>The identifier system of the clinic's patient id; the receiving system maps it to its own.</summary>
    public const string PatientIdSystem = "urn:drweb:patient-id";

    /// <summary>For an exam without a patient id: the exam's id stands for its (unnamed) patient.</summary>
    public const string ExamPatientSystem = "urn:drweb:exam-patient";

    /// <summary>SNOMED CT for the grades that have a concept (the international clinical DR scale, grades 1-4).</summary>
    public static readonly IReadOnlyDictionary<int, (string Code, string Display)> SnomedGrades = new Dictionary<int, (string, string)>
    {
        [1] = ("312903003", "Mild non-proliferative retinopathy due to diabetes mellitus"),
        [2] = ("312904009", "Moderate non-proliferative retinopathy due to diabetes mellitus"),
        [3] = ("312905005", "Severe non-proliferative retinopathy due to diabetes mellitus"),
        [4] = ("59276001", "Proliferative retinopathy due to diabetes mellitus"),
    };

    public static readonly IReadOnlyDictionary<EyeSide, (string Code, string Display)> SnomedEyes = new Dictionary<EyeSide, (string, string)>
    {
        [EyeSide.Left] = ("8966001", "Left eye structure"),
        [EyeSide.Right] = ("18944008", "Right eye structure"),
    };

    public Bundle Bundle(Exam exam, string baseUrl)
    {
        string Urn(string kind, Guid id) => $"urn:uuid:{GuidFor(kind, id)}";
        var (left, right) = ExamService.Eyes(exam);
        bool final = exam.ConfirmedUtc is not null;
        string patientUrn = Urn("patient", exam.Id);
        var bundle = new Bundle { Type = Hl7.Fhir.Model.Bundle.BundleType.Collection, Id = exam.Id.ToString(), Timestamp = DateTimeOffset.UtcNow };

        // Without the clinic's id the patient is known only as "the patient of this exam".
        var patient = new Patient();
        patient.Identifier.Add(exam.PatientId is { } pid ? new Identifier(PatientIdSystem, pid) : new Identifier(ExamPatientSystem, exam.Id.ToString()));
        bundle.Entry.Add(new Bundle.EntryComponent { FullUrl = patientUrn, Resource = patient });

        var versions = exam.Photographs.SelectMany(c => c.Predictions).Select(p => p.ModelVersion).Distinct().ToList();
        var devices = versions.ToDictionary(v => v, v => $"urn:uuid:{GuidFor("device:" + v, Guid.Empty)}");
        foreach (var (version, urn) in devices)
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = urn,
                Resource = new Device
                {
                    DeviceName = [new Device.DeviceNameComponent { Name = version, Type = DeviceNameType.ModelName }],
                    Type = new CodeableConcept { Text = "Diabetic retinopathy grading software (DrWeb)" },
                    Version = [new Device.VersionComponent { Value = version }],
                },
            });

        var report = new DiagnosticReport
        {
            Status = final ? DiagnosticReport.DiagnosticReportStatus.Final : DiagnosticReport.DiagnosticReportStatus.Preliminary,
            Code = new CodeableConcept { Text = "Diabetic retinopathy screening (fundus photographs, both eyes)" },
            Subject = new ResourceReference(patientUrn),
            Effective = new FhirDateTime(exam.ExamDate.Year, exam.ExamDate.Month, exam.ExamDate.Day),
            Issued = exam.ConfirmedUtc ?? exam.CreatedUtc,
            Conclusion = Conclusion(exam, versions),
        };
        // The decision that stands: the doctor's once the report is final, else the model's (preliminary).
        if (exam.Refer is { } refer)
            report.ConclusionCode.Add(new CodeableConcept { Text = refer ? "Refer to ophthalmology" : "Rescreen" });

        foreach (var (side, eye) in new[] { (EyeSide.Right, right), (EyeSide.Left, left) })
        {
            var photos = exam.Photographs.Where(c => c.Eye == side.ToString().ToLowerInvariant() && c.Predictions.Count > 0).ToList();
            if (eye.Status == EyeStatus.NotImaged) continue;
            var media = new List<string>();
            foreach (var photo in photos)
            {
                var prediction = photo.Predictions.OrderByDescending(p => p.CreatedUtc).First();
                string photoUrn = Urn("photo", photo.Id), heatmapUrn = Urn("heatmap", photo.Id);
                bundle.Entry.Add(MediaEntry(photoUrn, patientUrn, side, $"{baseUrl}/api/screenings/{photo.Id}/original",
                    $"Fundus photograph {photo.FileName}{(photo.Field is { } f ? $", {f}-centred" : "")}; quality {photo.QualityVerdict ?? "not assessed"}",
                    ContentType(photo.Format), exam));
                bundle.Entry.Add(MediaEntry(heatmapUrn, patientUrn, side, $"{baseUrl}/api/screenings/{photo.Id}/overlay",
                    $"Heatmap ({prediction.CamMethod}, {prediction.CamLayer}) of {photo.FileName}", "image/png", exam));
                media.Add(photoUrn);
                media.Add(heatmapUrn);
                report.Media.Add(new DiagnosticReport.MediaComponent { Comment = $"{side} eye photograph", Link = new ResourceReference(photoUrn) });
                report.Media.Add(new DiagnosticReport.MediaComponent { Comment = $"{side} eye heatmap", Link = new ResourceReference(heatmapUrn) });
            }
            string observationUrn = Urn("observation-" + side, exam.Id);
            var decisive = photos.Where(c => c.Gradable).Select(c => c.Predictions.OrderByDescending(p => p.CreatedUtc).First())
                .MaxBy(p => p.ReferableProbability);
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = observationUrn,
                Resource = Observation(eye, side, final, patientUrn, exam, decisive, decisive is null ? null : devices[decisive.ModelVersion], media),
            });
            report.Result.Add(new ResourceReference(observationUrn));
        }
        bundle.Entry.Insert(1, new Bundle.EntryComponent { FullUrl = Urn("report", exam.Id), Resource = report });
        return bundle;
    }

    /// <summary>FHIR's JSON rules (resourceType, primitives' extensions) on System.Text.Json.</summary>
    public static readonly System.Text.Json.JsonSerializerOptions Json =
        new System.Text.Json.JsonSerializerOptions { WriteIndented = true }.ForFhir(ModelInfo.ModelInspector);

    public string BundleJson(Exam exam, string baseUrl) => System.Text.Json.JsonSerializer.Serialize(Bundle(exam, baseUrl), Json);

    /// <summary>The eye's DR severity: its grade (or "ungradable"), with P(referable) and the five grade probabilities as components.</summary>
    private static Observation Observation(EyeResult eye, EyeSide side, bool final, string patientUrn, Exam exam, Prediction? decisive,
        string? deviceUrn, List<string> media)
    {
        var value = new CodeableConcept();
        if (eye.Status == EyeStatus.Graded)
        {
            int grade = eye.Grade!.Value;
            if (SnomedGrades.TryGetValue(grade, out var snomed)) value.Coding.Add(new Coding(Snomed, snomed.Code, snomed.Display));
            value.Coding.Add(new Coding(GradeSystem, grade.ToString(CultureInfo.InvariantCulture), DrGrade.Name(grade)));
            value.Text = $"Grade {grade}: {DrGrade.Name(grade)}";
        }
        else
        {
            value.Coding.Add(new Coding(GradeSystem, "ungradable", "Ungradable"));
            value.Text = "Ungradable: no photograph passed the quality gate; re-image or refer";
        }
        var eyeCode = SnomedEyes[side];
        var observation = new Observation
        {
            Status = final ? ObservationStatus.Final : ObservationStatus.Preliminary,
            Code = new CodeableConcept(Snomed, "4855003", "Retinopathy due to diabetes mellitus", "Diabetic retinopathy severity"),
            Subject = new ResourceReference(patientUrn),
            Effective = new FhirDateTime(exam.ExamDate.Year, exam.ExamDate.Month, exam.ExamDate.Day),
            BodySite = new CodeableConcept(Snomed, eyeCode.Code, eyeCode.Display),
            Value = value,
            Method = new CodeableConcept { Text = decisive?.ReferableRule is { } rule ? $"Deep-learning grading of fundus photographs; referral rule: {rule}" : "Deep-learning grading of fundus photographs" },
        };
        if (deviceUrn is not null) observation.Device = new ResourceReference(deviceUrn);
        foreach (string m in media) observation.DerivedFrom.Add(new ResourceReference(m));
        if (eye.ReferableProbability is { } pRef)
        {
            observation.Component.Add(new Observation.ComponentComponent
            {
                Code = new CodeableConcept { Text = "Probability of referable diabetic retinopathy (grade 2 or worse)" },
                Value = Probability(pRef),
            });
            observation.Component.Add(new Observation.ComponentComponent
            {
                Code = new CodeableConcept { Text = "Referable at the model's recorded threshold" },
                Value = new FhirBoolean(eye.Referable == true),
            });
        }
        if (decisive is not null && eye.Status == EyeStatus.Graded)
            for (int g = 0; g < DrGrade.Count; g++)
                observation.Component.Add(new Observation.ComponentComponent
                {
                    Code = new CodeableConcept(GradeSystem, g.ToString(CultureInfo.InvariantCulture), DrGrade.Name(g), $"Probability of grade {g}"),
                    Value = Probability(decisive.Probabilities[g]),
                });
        return observation;
    }

    private static Quantity Probability(double p) => new((decimal)Math.Round(p, 4), "1", "http://unitsofmeasure.org") { Unit = "probability" };

    private static Bundle.EntryComponent MediaEntry(string urn, string patientUrn, EyeSide side, string url, string title, string contentType, Exam exam)
    {
        var eyeCode = SnomedEyes[side];
        return new Bundle.EntryComponent
        {
            FullUrl = urn,
            Resource = new Media
            {
                Status = EventStatus.Completed,
                Type = new CodeableConcept("http://terminology.hl7.org/CodeSystem/media-type", "image", "Image"),
                Subject = new ResourceReference(patientUrn),
                BodySite = new CodeableConcept(Snomed, eyeCode.Code, eyeCode.Display),
                Created = new FhirDateTime(exam.ExamDate.Year, exam.ExamDate.Month, exam.ExamDate.Day),
                Content = new Attachment { ContentType = contentType, Url = url, Title = title },
            },
        };
    }

    private static string Conclusion(Exam exam, IReadOnlyList<string> versions)
    {
        string model = versions.Count == 0 ? "no model" : string.Join("; ", versions);
        string recommendation = exam.ModelAction is { } action ? $"{action}. {exam.ModelReason} Guideline: {exam.GuidelineSource}." : "No recommendation: no photograph was graded.";
        string doctor = exam.ConfirmedUtc is null ? "Awaiting the doctor's confirmation."
            : $"Doctor ({exam.ConfirmedBy}): {(exam.DoctorRefer == true ? "refer" : "rescreen")}, {(exam.DoctorRefer == exam.ModelRefer ? "confirming" : "overriding")} the model.";
        return $"{recommendation} {doctor} Graded by {model}. Not for clinical use: demonstration model.";
    }

    private static string ContentType(string format) => format.ToLowerInvariant() switch
    {
        "png" => "image/png",
        "jpeg" or "jpg" => "image/jpeg",
        "bmp" => "image/bmp",
        "tiff" or "tif" => "image/tiff",
        "webp" => "image/webp",
        _ => "application/octet-stream",
    };

    /// <summary>A stable UUID per resource of an exam, so that exporting twice names each resource the same.</summary>
    private static Guid GuidFor(string kind, Guid id)
    {
        byte[] hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{kind}/{id}"));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }
}
