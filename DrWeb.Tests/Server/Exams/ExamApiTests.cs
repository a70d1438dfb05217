using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using DrWeb.Server.Accounts;
using DrWeb.Server.Exams;
using DrWeb.Server.Platform.Database;
using DrWeb.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using UglyToad.PdfPig;

namespace DrWeb.Tests.Server.Exams;

/// <summary>The exam API on both providers: two eyes in, a patient-level decision, confirmation, PDF and FHIR out.</summary>
public class ExamApiTests(ProviderHosts hosts) : IClassFixture<ProviderHosts>
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerOptions.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    private static ByteArrayContent Jpeg(byte[] bytes) => new(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } };

    /// <summary>A dark, featureless picture: the quality gate calls it ungradable.</summary>
    private static byte[] Blank()
    {
        using var image = new Image<Rgb24>(512, 512, new Rgb24(4, 3, 2));
        using var ms = new MemoryStream();
        image.SaveAsJpeg(ms);
        return ms.ToArray();
    }

    [Theory, SqliteData, PostgresData]
    public async Task An_exam_of_two_eyes_gives_each_eye_and_the_patient_a_result_and_keeps_the_doctors_answer_beside_the_models(DatabaseProvider provider)
    {
        var host = hosts[provider];
        var (secret, _) = await host.ApiTokenAsync(AccountSetup.Doctor);
        using var client = host.ApiClient(secret);
        using var form = new MultipartFormDataContent
        {
            { Jpeg(File.ReadAllBytes(SharedData.FundusDevImage("10030_right.jpeg"))), "right", "10030_right.jpeg" },
            { new StringContent("macula"), "rightField" },
            { Jpeg(File.ReadAllBytes(SharedData.FundusDevImage("10030_left.jpeg"))), "left", "10030_left.jpeg" },
            { new StringContent("EX-1"), "patientId" },
            { new StringContent("2026-11-30"), "examDate" },
            { new StringContent("Clinic A"), "site" },
        };
        var response = await client.PostAsync("/api/exams", form);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var exam = (await response.Content.ReadFromJsonAsync<ExamView>(Web))!;
        Assert.Equal($"/api/exams/{exam.Id}", response.Headers.Location!.OriginalString);
        Assert.Equal("EX-1", exam.PatientId);
        Assert.Equal(new DateOnly(2026, 11, 30), exam.ExamDate);
        Assert.Equal("awaiting-confirmation", exam.Status);
        Assert.Equal(2, exam.Photographs.Count);
        Assert.Equal("macula", exam.Photographs.Single(p => p.Eye == "right").Field);

        // Each eye is its one photograph; the patient's decision is the documented rule over the two eyes.
        foreach (var (eye, side) in new[] { (exam.Left, "left"), (exam.Right, "right") })
        {
            var photo = exam.Photographs.Single(p => p.Eye == side);
            Assert.Equal("graded", eye.Status);
            Assert.Equal(photo.Grade, eye.Grade);
            Assert.Equal(photo.ReferableProbability!.Value, eye.ReferableProbability!.Value, 5);
            Assert.Equal(photo.Referable, eye.Referable);
            Assert.NotNull(photo.ReferralThreshold);
        }
        var expected = PatientDecision.Decide(EyeResult.Graded(exam.Left.Grade!.Value, exam.Left.ReferableProbability!.Value, exam.Left.Referable!.Value),
            EyeResult.Graded(exam.Right.Grade!.Value, exam.Right.ReferableProbability!.Value, exam.Right.Referable!.Value), ReferralGuideline.Default());
        Assert.Equal(expected.Refer, exam.Recommendation!.Refer);
        Assert.Equal(expected.FollowUpMonths, exam.Recommendation.FollowUpMonths);
        Assert.Equal(expected.Action, exam.Recommendation.Action);
        Assert.Contains("ICO", exam.Recommendation.GuidelineSource);

        // The photographs are served by the screening API's image endpoints.
        var overlay = await client.GetAsync(exam.Photographs[0].OverlayUrl);
        Assert.Equal("image/png", overlay.Content.Headers.ContentType!.MediaType);

        // The doctor overrides the decision and grades both eyes; the model's answer stays.
        bool doctorRefers = !exam.Recommendation.Refer;
        // Another doctor cannot confirm it; the longest comment a doctor may write has no spaces at all.
        var (strangerSecret, _) = await host.ApiTokenAsync(AccountSetup.Doctor);
        using (var stranger = host.ApiClient(strangerSecret))
            Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsJsonAsync($"/api/exams/{exam.Id}/confirmation", new { refer = true })).StatusCode);
        string comment = new string('x', 1995) + " end";
        var confirmed = await client.PostAsJsonAsync($"/api/exams/{exam.Id}/confirmation", new { gradeLeft = 3, gradeRight = 1, refer = doctorRefers, comment });
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        var after = (await confirmed.Content.ReadFromJsonAsync<ExamView>(Web))!;
        Assert.Equal(doctorRefers ? "referred" : "confirmed", after.Status);
        Assert.False(after.Doctor!.AgreesWithModel);
        Assert.Equal(3, after.Doctor.GradeLeft);
        Assert.Equal(exam.Recommendation, after.Recommendation);
        Assert.Equal(comment, after.Doctor.Comment);
        // A confirmation stands: a second one is refused and changes nothing.
        var again = await client.PostAsJsonAsync($"/api/exams/{exam.Id}/confirmation", new { gradeLeft = 0, refer = !doctorRefers });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(3, (await client.GetFromJsonAsync<ExamView>($"/api/exams/{exam.Id}", Web))!.Doctor!.GradeLeft);
        using (var scope = host.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<DrWebDbContext>();
            Assert.Contains(await db.AuditEntries.Where(a => a.Action == AuditAction.ExamConfirmed).Select(a => a.Detail).ToListAsync(), d => d!.StartsWith("overrode"));
        }

        // The PDF says the same: patient, both grades, the doctor's decision over the model's, and all of it on one page
        // that also fits US Letter (612 x 792 pt), however long the comment.
        var pdf = await client.GetAsync($"/api/exams/{exam.Id}/report.pdf");
        Assert.Equal("application/pdf", pdf.Content.Headers.ContentType!.MediaType);
        byte[] pdfBytes = await pdf.Content.ReadAsByteArrayAsync();
        string shots = Path.Combine(SharedData.RepoRoot, "artifacts", "screenshots");
        Directory.CreateDirectory(shots);
        File.WriteAllBytes(Path.Combine(shots, $"exam-report-server-{provider}.pdf"), pdfBytes);
        using (var document = PdfDocument.Open(pdfBytes))
        {
            Assert.Equal(1, document.NumberOfPages);
            var page = document.GetPage(1);
            string text = string.Join(" ", page.GetWords().Select(w => w.Text));
            Assert.Contains("EX-1", text);
            Assert.Contains($"Grade: {exam.Right.Grade} ({exam.Right.GradeName})", text);
            Assert.Contains($"Grade: {exam.Left.Grade} ({exam.Left.GradeName})", text);
            Assert.Contains($"{(doctorRefers ? "Refer" : "Rescreen")}: the doctor's decision, overriding the model", text);
            Assert.Contains($"The model recommended: {exam.Recommendation.Action}", text);
            Assert.Contains("Not for clinical use", text);
            Assert.Contains("Overridden by", text);
            Assert.Contains("validation sensitivity", text);
            Assert.Contains("full comment is in DrWeb", text);
            Assert.Contains("Referral table", text);
            Assert.Contains("Generated by DrWeb", text);
            double top = page.Height, letterBottom = page.Height - 792;
            Assert.All(page.GetWords(), w =>
            {
                Assert.InRange(w.BoundingBox.Left, 20, 612 - 20);
                Assert.InRange(w.BoundingBox.Right, 20, 612 - 20);
                Assert.InRange(w.BoundingBox.Bottom, letterBottom + 20, top - 20);
            });
        }

        // FHIR: a valid R4 bundle whose codes and values are the stored ones.
        var fhir = await client.GetAsync($"/api/exams/{exam.Id}/fhir");
        Assert.Equal("application/fhir+json", fhir.Content.Headers.ContentType!.MediaType);
        var bundle = FhirBundles.Parse(await fhir.Content.ReadAsStringAsync());
        FhirBundles.AssertValid(bundle);
        FhirBundles.AssertMatches(bundle, after);
    }

    [Theory, SqliteData, PostgresData]
    public async Task An_eye_with_only_an_ungradable_photograph_is_ungradable_and_the_patient_is_referred(DatabaseProvider provider)
    {
        var host = hosts[provider];
        var (secret, _) = await host.ApiTokenAsync(AccountSetup.Doctor);
        using var client = host.ApiClient(secret);
        using var form = new MultipartFormDataContent
        {
            { Jpeg(File.ReadAllBytes(SharedData.FundusDevImage("10030_right.jpeg"))), "right", "r.jpeg" },
            { Jpeg(Blank()), "left", "dark.jpeg" },
        };
        var response = await client.PostAsync("/api/exams", form);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var exam = (await response.Content.ReadFromJsonAsync<ExamView>(Web))!;
        Assert.Equal("ungradable", exam.Left.Status);
        var dark = exam.Photographs.Single(p => p.Eye == "left");
        Assert.Equal("Ungradable", dark.QualityVerdict);
        Assert.False(dark.Gradable);
        Assert.True(exam.Recommendation!.Refer);
        Assert.Equal(ReferralGuideline.Default().Ungradable.Action, exam.Recommendation.Action);
        FhirBundles.AssertValid(FhirBundles.Parse(await client.GetStringAsync($"/api/exams/{exam.Id}/fhir")));
    }

    [Theory, SqliteData, PostgresData]
    public async Task A_bad_exam_request_is_refused_with_the_reason_and_stores_nothing(DatabaseProvider provider)
    {
        var host = hosts[provider];
        var (secret, _) = await host.ApiTokenAsync(AccountSetup.Doctor);
        using var client = host.ApiClient(secret);
        int before = await CountAsync(host);
        byte[] photo = File.ReadAllBytes(SharedData.FundusDevImage("10030_right.jpeg"));

        var stray = await client.PostAsync("/api/exams", new MultipartFormDataContent { { Jpeg(photo), "images", "a.jpeg" } });
        Assert.Equal(HttpStatusCode.BadRequest, stray.StatusCode);
        Assert.Contains("neither 'left' nor 'right'", await stray.Content.ReadAsStringAsync());

        var none = await client.PostAsync("/api/exams", new MultipartFormDataContent { { new StringContent("P"), "patientId" } });
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);

        var badDate = await client.PostAsync("/api/exams", new MultipartFormDataContent { { Jpeg(photo), "left", "a.jpeg" }, { new StringContent("30/11/2026"), "examDate" } });
        Assert.Equal(HttpStatusCode.BadRequest, badDate.StatusCode);
        Assert.Contains("yyyy-MM-dd", await badDate.Content.ReadAsStringAsync());

        // Rules of the exam are checked before any photograph is graded.
        var badField = await client.PostAsync("/api/exams", new MultipartFormDataContent
        {
            { Jpeg(photo), "left", "a.jpeg" }, { new StringContent("periphery"), "leftField" },
        });
        Assert.Equal(HttpStatusCode.BadRequest, badField.StatusCode);
        Assert.Contains("macula, disc, other", await badField.Content.ReadAsStringAsync());
        var tooMany = new MultipartFormDataContent();
        for (int i = 0; i < 9; i++) tooMany.Add(Jpeg(photo), i % 2 == 0 ? "left" : "right", $"p{i}.jpeg");
        var many = await client.PostAsync("/api/exams", tooMany);
        Assert.Equal(HttpStatusCode.BadRequest, many.StatusCode);
        Assert.Contains("at most 8 photographs", await many.Content.ReadAsStringAsync());

        // The second photograph is not an image: the first, already graded, is removed with the exam.
        var broken = await client.PostAsync("/api/exams", new MultipartFormDataContent
        {
            { Jpeg(photo), "right", "good.jpeg" },
            { Jpeg("not a picture"u8.ToArray()), "left", "notes.jpeg" },
        });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, broken.StatusCode);
        using var problem = JsonDocument.Parse(await broken.Content.ReadAsStringAsync());
        Assert.Contains("notes.jpeg", problem.RootElement.GetProperty("detail").GetString());
        Assert.Contains("not saved", problem.RootElement.GetProperty("detail").GetString());
        Assert.Equal(before, await CountAsync(host));

        var missing = await client.GetAsync($"/api/exams/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType!.MediaType);
    }

    [Theory, SqliteData, PostgresData]
    public async Task A_single_screening_is_a_one_photo_exam_that_another_doctor_cannot_open(DatabaseProvider provider)
    {
        var host = hosts[provider];
        var (secret, _) = await host.ApiTokenAsync(AccountSetup.Doctor);
        using var client = host.ApiClient(secret);
        using var form = new MultipartFormDataContent
        {
            { Jpeg(File.ReadAllBytes(SharedData.FundusDevImage("10030_right.jpeg"))), "images", "10030_right.jpeg" },
            { new StringContent("ONE-1"), "patientId" },
            { new StringContent("right"), "eye" },
        };
        using var json = JsonDocument.Parse(await (await client.PostAsync("/api/screenings", form)).Content.ReadAsStringAsync());
        var item = json.RootElement.GetProperty("results")[0];
        Guid examId = item.GetProperty("examId").GetGuid();
        var exam = (await client.GetFromJsonAsync<ExamView>($"/api/exams/{examId}", Web))!;
        Assert.Equal("ONE-1", exam.PatientId);
        Assert.Equal(item.GetProperty("caseId").GetGuid(), Assert.Single(exam.Photographs).CaseId);
        Assert.Equal(item.GetProperty("grade").GetInt32(), exam.Right.Grade);
        Assert.Equal("not-imaged", exam.Left.Status);
        Assert.True(exam.Recommendation!.Refer);

        var (other, _) = await host.ApiTokenAsync(AccountSetup.Doctor);
        using var otherClient = host.ApiClient(other);
        Assert.Equal(HttpStatusCode.NotFound, (await otherClient.GetAsync($"/api/exams/{examId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await otherClient.GetAsync($"/api/exams/{examId}/report.pdf")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await otherClient.GetAsync($"/api/exams/{examId}/fhir")).StatusCode);
    }

    [Theory, SqliteData, PostgresData]
    public async Task A_retried_exam_with_an_idempotency_key_gets_the_first_answer_and_no_second_exam(DatabaseProvider provider)
    {
        var host = hosts[provider];
        var (secret, _) = await host.ApiTokenAsync(AccountSetup.Doctor);
        using var client = host.ApiClient(secret);
        byte[] photo = File.ReadAllBytes(SharedData.FundusDevImage("10030_right.jpeg"));
        MultipartFormDataContent Form(string patient) => new() { { Jpeg(photo), "right", "r.jpeg" }, { new StringContent(patient), "patientId" } };
        string key = Guid.NewGuid().ToString();
        HttpRequestMessage Post(string patient) => new(HttpMethod.Post, "/api/exams") { Content = Form(patient), Headers = { { "Idempotency-Key", key } } };

        var first = await client.SendAsync(Post("IDEM-1"));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        int count = await CountAsync(host);
        var again = await client.SendAsync(Post("IDEM-1"));
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(first.Headers.Location, again.Headers.Location);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        Assert.Equal(count, await CountAsync(host));

        var other = await client.SendAsync(Post("IDEM-2"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        Assert.Contains("different request", await other.Content.ReadAsStringAsync());
    }

    private static async Task<int> CountAsync(DrWebFactory host)
    {
        using var scope = host.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DrWebDbContext>();
        return await db.Exams.CountAsync() + await db.Cases.CountAsync();
    }
}
