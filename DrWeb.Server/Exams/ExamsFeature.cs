using Microsoft.Extensions.Options;

namespace DrWeb.Server.Exams;

/// <summary>Exams: both eyes of a patient visit, the patient-level recommendation, confirmation, the report and FHIR export.</summary>
public static class ExamsFeature
{
    public const string GuidelineSection = "DrWeb:Exams:Guideline";

    public static IServiceCollection AddExams(this IServiceCollection services)
    {
        services.AddOptions<ReferralGuideline>().BindConfiguration(GuidelineSection)
            .PostConfigure(g =>
            {
                if (g.Grades.Count == 0) g.Grades = ReferralGuideline.Default().Grades;
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ReferralGuideline>, GuidelineValidation>();
        services.AddSingleton<ExamService>();
        services.AddSingleton<ExamQueries>();
        services.AddSingleton<ExamReports>();
        services.AddSingleton<ExamFhirExport>();
        return services;
    }

    public static WebApplication MapExams(this WebApplication app)
    {
        app.MapExamApi();
        return app;
    }

    private sealed class GuidelineValidation : IValidateOptions<ReferralGuideline>
    {
        public ValidateOptionsResult Validate(string? name, ReferralGuideline options) =>
            options.Problem() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
    }
}
