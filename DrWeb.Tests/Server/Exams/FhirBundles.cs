using Firely.Fhir.Validation;
using DrWeb.Server.Exams;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Specification.Source;
using Hl7.Fhir.Specification.Terminology;

namespace DrWeb.Tests.Server.Exams;

/// <summary>Reads DrWeb's FHIR bundles back and checks them: Firely's validator against the base R4 profiles, and the stored values.</summary>
internal static class FhirBundles
{
    private static readonly Lazy<Validator> Validator = new(() =>
    {
        // The R4 specification comes from the Hl7.Fhir.Specification.Data.R4 package (specification.zip in the output), offline.
        var source = new CachedResolver(ZipSource.CreateValidationSource());
        return new Validator(source, new LocalTerminologyService(source));
    });

    public static Bundle Parse(string json) => System.Text.Json.JsonSerializer.Deserialize<Bundle>(json, ExamFhirExport.Json)!;

    public static void AssertValid(Bundle bundle)
    {
        OperationOutcome outcome;
        lock (Validator) outcome = Validator.Value.Validate(bundle);
        var errors = outcome.Issue.Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal)
            .Select(i => $"{i.Details?.Text} at {string.Join(",", i.Expression ?? [])}").ToList();
        Assert.True(errors.Count == 0, "FHIR validation errors:\n" + string.Join("\n", errors));
    }

    /// <summary>Patient id, one Observation per graded eye with the stored grade (SNOMED where it has one) and P(referable), the conclusion.</summary>
    public static void AssertMatches(Bundle bundle, ExamView exam)
    {
        var patient = bundle.Entry.Select(e => e.Resource).OfType<Patient>().Single();
        Assert.Equal(exam.PatientId, patient.Identifier.Single().Value);
        var report = bundle.Entry.Select(e => e.Resource).OfType<DiagnosticReport>().Single();
        Assert.Equal(exam.Doctor is null ? DiagnosticReport.DiagnosticReportStatus.Preliminary : DiagnosticReport.DiagnosticReportStatus.Final, report.Status);
        Assert.Contains(exam.Recommendation!.Action, report.Conclusion!);
        bool refer = exam.Doctor?.Refer ?? exam.Recommendation.Refer;
        Assert.Equal(refer ? "Refer to ophthalmology" : "Rescreen", report.ConclusionCode.Single().Text);
        var observations = bundle.Entry.Select(e => e.Resource).OfType<Observation>().ToList();
        Assert.Equal(report.Result.Count, observations.Count);
        foreach (var (eye, code) in new[] { (exam.Left, "8966001"), (exam.Right, "18944008") })
        {
            if (eye.Status == "not-imaged")
            {
                Assert.DoesNotContain(observations, o => o.BodySite!.Coding[0].Code == code);
                continue;
            }
            var observation = observations.Single(o => o.BodySite!.Coding[0].Code == code);
            var value = (CodeableConcept)observation.Value!;
            if (eye.Grade is { } grade)
            {
                Assert.Equal(grade.ToString(), value.Coding.Single(c => c.System == ExamFhirExport.GradeSystem).Code);
                if (ExamFhirExport.SnomedGrades.TryGetValue(grade, out var snomed))
                    Assert.Equal(snomed.Code, value.Coding.Single(c => c.System == ExamFhirExport.Snomed).Code);
                var p = (Quantity)observation.Component.First(c => c.Code!.Text!.StartsWith("Probability of referable")).Value!;
                Assert.Equal(eye.ReferableProbability!.Value, (double)p.Value!.Value, 3);
            }
            else
            {
                Assert.Equal("ungradable", value.Coding.Single().Code);
            }
        }
        Assert.Equal(exam.Photographs.Count * 2, bundle.Entry.Select(e => e.Resource).OfType<Media>().Count());
    }
}
