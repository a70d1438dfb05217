using System.Net;
using System.Net.Http.Json;
using DrWeb.Server.Accounts;
using DrWeb.Tests.Support;

namespace DrWeb.Tests.Server.Training;

/// <summary>Who may reach the training pages, the job dashboard and the training API.</summary>
public class TrainingPagesTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    [Theory]
    [InlineData("/training", "Recurring runs")]
    [InlineData("/training", "DrWeb:Training:DatasetRoots")]
    [InlineData("/training/new", "the study's settings")]
    [InlineData("/training/compare", "Select two or more runs")]
    public async Task Admins_see_the_training_pages(string path, string expected)
    {
        using var admin = await factory.SignedInClientAsync();
        string html = await admin.GetStringAsync(path);
        Assert.Contains(expected, html);
    }

    [Theory]
    [InlineData("/training")]
    [InlineData("/training/new")]
    [InlineData("/hangfire")]
    public async Task Doctors_and_educators_get_403_on_training_and_the_dashboard(string path)
    {
        foreach (string role in new[] { AccountSetup.Doctor, AccountSetup.Educator })
        {
            using var client = await factory.SignedInClientAsync(role);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync(path)).StatusCode);
        }
    }

    [Fact]
    public async Task The_dashboard_opens_for_admins_and_not_for_anonymous_visitors()
    {
        using var admin = await factory.SignedInClientAsync();
        var page = await admin.GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("DrWeb jobs", await page.Content.ReadAsStringAsync());
        // The queue this server serves is listed.
        Assert.Contains("training", await admin.GetStringAsync("/hangfire/servers"));

        using var anonymous = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var refused = await anonymous.GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.StartsWith("/account/login", refused.Headers.Location!.IsAbsoluteUri ? refused.Headers.Location.PathAndQuery : refused.Headers.Location.OriginalString);
    }

    [Fact]
    public async Task The_training_api_takes_admin_tokens_only_and_explains_refusals()
    {
        using var doctor = factory.ApiClient((await factory.ApiTokenAsync(AccountSetup.Doctor)).Secret);
        Assert.Equal(HttpStatusCode.Forbidden, (await doctor.PostAsJsonAsync("/api/datasets", new { path = "/tmp" })).StatusCode);

        using var admin = factory.ApiClient((await factory.ApiTokenAsync(AccountSetup.Admin)).Secret);
        var outside = await admin.PostAsJsonAsync("/api/datasets", new { path = "/etc" });
        Assert.Equal((HttpStatusCode)422, outside.StatusCode);
        Assert.Contains("outside the folders datasets may come from", await outside.Content.ReadAsStringAsync());

        var run = await admin.PostAsJsonAsync("/api/training-runs", new { settings = new { datasetId = Guid.NewGuid(), architecture = "vgg16" } });
        Assert.Equal((HttpStatusCode)422, run.StatusCode);
        string detail = await run.Content.ReadAsStringAsync();
        Assert.Contains("no longer registered", detail);
        Assert.Contains("vgg16 needs ImageNet base weights", detail);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/training-runs/{Guid.NewGuid()}")).StatusCode);

        var badPreset = await admin.PostAsJsonAsync("/api/training-runs", new { preset = "fastest", settings = new { datasetId = Guid.NewGuid() } });
        Assert.Equal((HttpStatusCode)422, badPreset.StatusCode);
        Assert.Contains("Unknown preset", await badPreset.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_api_refuses_what_the_new_run_form_refuses_with_the_same_words()
    {
        var form = new DrWeb.Server.Training.RunForm
        {
            DatasetId = Guid.NewGuid(), RotationDegrees = 200, FlipProbability = 1.5f, TranslateFraction = 0.9f, ColourJitter = 3, Patience = -1,
        };
        var (settings, formProblems) = form.ToSettings();
        Assert.Null(settings);
        foreach (string word in new[] { "Rotation", "flip probability", "Translation", "jitter", "Patience" })
            Assert.Contains(formProblems, p => p.Contains(word));

        using var admin = factory.ApiClient((await factory.ApiTokenAsync(AccountSetup.Admin)).Secret);
        var run = await admin.PostAsJsonAsync("/api/training-runs", new
        {
            preset = "screening",
            settings = new
            {
                datasetId = form.DatasetId, options = new
                {
                    earlyStoppingPatience = -1,
                    augmentation = new { enabled = true, rotationDegrees = 200, horizontalFlipProbability = 1.5, verticalFlipProbability = 1.5,
                        translateFraction = 0.9, brightness = 3, contrast = 3, saturation = 3 },
                },
            },
        });
        Assert.Equal((HttpStatusCode)422, run.StatusCode);
        string detail = System.Net.WebUtility.HtmlDecode(await run.Content.ReadAsStringAsync());
        foreach (string problem in formProblems.Where(p => !p.Contains("dataset")))
            Assert.Contains(problem, detail);
    }
}
