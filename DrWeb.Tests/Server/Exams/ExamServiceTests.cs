using System.Security.Claims;
using DrWeb.Server.Accounts;
using DrWeb.Server.Exams;
using DrWeb.Server.Platform.Database;
using DrWeb.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DrWeb.Tests.Server.Exams;

/// <summary>Exams through the service: eye corrections, confirmation, the history's status filter and the doctor-model agreement.</summary>
public class ExamServiceTests(DrWebFactory host) : IClassFixture<DrWebFactory>
{
    private static ClaimsPrincipal Doctor(string email) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, email), new Claim(ClaimTypes.Role, AccountSetup.Doctor)], "test"));

    private static ExamPhotograph Photo(string file, EyeSide eye) => new(file, File.ReadAllBytes(SharedData.FundusDevImage(file)), eye);

    [Fact]
    public async Task A_corrected_eye_changes_the_recommendation_until_the_doctor_confirms_and_agreement_is_counted_per_doctor()
    {
        _ = host.Server;
        var exams = host.Services.GetRequiredService<ExamService>();
        var queries = host.Services.GetRequiredService<ExamQueries>();
        string email = $"doc-{Guid.NewGuid():N}@drweb.test";
        var doctor = Doctor(email);

        // Both photographs filed as the left eye: the right eye is "not photographed", so the patient is referred.
        var made = await exams.CreateAsync(new ExamRequest("SVC-1"), [Photo("10030_left.jpeg", EyeSide.Left), Photo("10030_right.jpeg", EyeSide.Left)], email);
        var exam = Assert.IsType<Exam>(made.Exam);
        Assert.True(exam.ModelRefer);
        Assert.Equal(ReferralGuideline.Default().Ungradable.Action, exam.ModelAction);
        Assert.Contains("right eye: not photographed", exam.ModelReason, StringComparison.OrdinalIgnoreCase);

        // The doctor moves the right photograph to its eye: the recommendation is made again from both eyes.
        var wrong = exam.Photographs.Single(c => c.FileName == "10030_right.jpeg");
        Assert.Null(await exams.SetEyeAsync(exam.Id, wrong.Id, EyeSide.Right, doctor));
        exam = (await exams.OpenAsync(exam.Id, doctor, "test"))!;
        var (left, right) = ExamService.Eyes(exam);
        Assert.Equal((EyeStatus.Graded, EyeStatus.Graded), (left.Status, right.Status));
        var expected = PatientDecision.Decide(left, right, exams.Guideline);
        Assert.Equal((expected.Refer, expected.Action), (exam.ModelRefer!.Value, exam.ModelAction));
        Assert.Equal((left.Grade, right.Grade), (exam.ModelGradeLeft, exam.ModelGradeRight));

        // Another doctor (with own-case visibility) cannot see or change it.
        var stranger = Doctor($"other-{Guid.NewGuid():N}@drweb.test");
        Assert.Null(await exams.OpenAsync(exam.Id, stranger, "test"));
        Assert.Equal(ExamChangeRefusal.NotFound, (await exams.ConfirmAsync(exam.Id, new ExamConfirmation(0, 0, false), stranger))!.Refusal);
        Assert.Equal(ExamChangeRefusal.NotFound, (await exams.SetEyeAsync(exam.Id, wrong.Id, EyeSide.Left, stranger))!.Refusal);
        Assert.Null((await exams.OpenAsync(exam.Id, doctor, "test"))!.ConfirmedUtc);
        Assert.Contains("0 to 4", (await exams.ConfirmAsync(exam.Id, new ExamConfirmation(7, null, true), doctor))!.Message);

        Assert.Contains(exam.Id, (await queries.ListAsync(new ExamFilter(ExamStatus.AwaitingConfirmation), doctor)).Exams.Select(e => e.Id));
        // The doctor agrees on the left grade, differs by one on the right, and keeps the model's decision.
        Assert.Null(await exams.ConfirmAsync(exam.Id, new ExamConfirmation(left.Grade, (right.Grade!.Value + 1) % 5, exam.ModelRefer!.Value), doctor));
        Assert.Equal(ExamChangeRefusal.Confirmed, (await exams.SetEyeAsync(exam.Id, wrong.Id, EyeSide.Left, doctor))!.Refusal);
        Assert.Equal(ExamChangeRefusal.Confirmed, (await exams.ConfirmAsync(exam.Id, new ExamConfirmation(0, 0, !exam.ModelRefer!.Value), doctor))!.Refusal);
        Assert.Equal(left.Grade, (await exams.OpenAsync(exam.Id, doctor, "test"))!.DoctorGradeLeft);
        var status = exam.ModelRefer == true ? ExamStatus.Referred : ExamStatus.Confirmed;
        Assert.Contains(exam.Id, (await queries.ListAsync(new ExamFilter(status), doctor)).Exams.Select(e => e.Id));
        Assert.DoesNotContain(exam.Id, (await queries.ListAsync(new ExamFilter(ExamStatus.AwaitingConfirmation), doctor)).Exams.Select(e => e.Id));

        var agreement = Assert.Single(await queries.AgreementAsync(doctor));
        Assert.Equal((email, 2, 1, 1, 1), (agreement.Doctor, agreement.Eyes, agreement.SameGrade, agreement.Exams, agreement.SameDecision));
        Assert.NotNull(agreement.Kappa);
        Assert.InRange(agreement.Kappa!.Value, -1, 1);
    }

    [Fact]
    public async Task A_photograph_that_cannot_be_read_leaves_no_exam_behind()
    {
        _ = host.Server;
        var exams = host.Services.GetRequiredService<ExamService>();
        var doctor = Doctor($"doc-{Guid.NewGuid():N}@drweb.test");
        var made = await exams.CreateAsync(new ExamRequest("SVC-2"),
            [Photo("10030_left.jpeg", EyeSide.Left), new ExamPhotograph("scan.png", "%PDF-1.4"u8.ToArray(), EyeSide.Right)], doctor.Identity!.Name!);
        Assert.Null(made.Exam);
        Assert.Contains("scan.png", made.Error);
        Assert.Empty((await host.Services.GetRequiredService<ExamQueries>().ListAsync(new ExamFilter(PatientId: "SVC-2"), doctor)).Exams);
        Assert.Contains("at least one photograph", (await exams.CreateAsync(new ExamRequest("SVC-2"), [], "x")).Error);
        Assert.Contains("in the future", (await exams.CreateAsync(new ExamRequest("SVC-2", DateOnly.FromDateTime(DateTime.UtcNow.AddDays(3))),
            [Photo("10030_left.jpeg", EyeSide.Left)], "x")).Error);
    }

    [Fact]
    public void A_programmes_own_table_replaces_the_default_and_a_broken_one_is_refused_with_the_reason()
    {
        var programme = new Dictionary<string, string?> { ["DrWeb:Exams:Guideline:Source"] = "Programme X, 2025" };
        for (int g = 0; g < 5; g++)
        {
            programme[$"DrWeb:Exams:Guideline:Grades:{g}:Grade"] = g.ToString();
            programme[$"DrWeb:Exams:Guideline:Grades:{g}:Refer"] = (g >= 1).ToString();
            programme[$"DrWeb:Exams:Guideline:Grades:{g}:FollowUpMonths"] = (g == 0 ? 24 : 3).ToString();
            programme[$"DrWeb:Exams:Guideline:Grades:{g}:Action"] = $"row {g}";
        }
        var table = Guideline(programme);
        Assert.Equal("Programme X, 2025", table.Source);
        Assert.Equal(5, table.Grades.Count);
        Assert.Equal((true, 3, "row 1"), (table.For(1).Refer, table.For(1).FollowUpMonths, table.For(1).Action));
        Assert.Equal(24, table.For(0).FollowUpMonths);

        Assert.Equal(ReferralGuideline.Default().Grades.Select(g => g.Action), Guideline([]).Grades.Select(g => g.Action));

        programme.Remove("DrWeb:Exams:Guideline:Grades:4:Grade");
        programme["DrWeb:Exams:Guideline:Grades:4:Grade"] = "3";
        var broken = Assert.Throws<OptionsValidationException>(() => Guideline(programme));
        Assert.Contains("exactly one row for each grade 0-4", broken.Message);
    }

    private static ReferralGuideline Guideline(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection().AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddExams();
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<ReferralGuideline>>().Value;
    }
}
