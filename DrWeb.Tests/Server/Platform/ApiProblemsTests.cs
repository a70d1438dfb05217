using System.Net;
using System.Net.Http.Headers;
using System.Text;
using DrWeb.Server.Accounts;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Tests.Server.Platform;

/// <summary>The bad requests a security review sent, replayed: none may get a 500 or a body that is not problem details.</summary>
public class ApiProblemsTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    private static byte[] Png(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(90, 40, 20));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    private static MultipartFormDataContent Upload(byte[] bytes, string name, bool gradeAnyway = false)
    {
        var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } }, "images", name },
        };
        if (gradeAnyway) form.Add(new StringContent("true"), "gradeAnyway");
        return form;
    }

    private static HttpContent Raw(string body, string contentType)
    {
        var content = new ByteArrayContent(Encoding.ASCII.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    [Fact]
    public async Task Every_bad_request_gets_a_problem_document_and_none_a_500()
    {
        using var doctor = factory.ApiClient((await factory.ApiTokenAsync(AccountSetup.Doctor)).Secret);
        using var admin = factory.ApiClient((await factory.ApiTokenAsync(AccountSetup.Admin)).Secret);
        var manyParts = new StringBuilder();
        for (int i = 0; i < 1100; i++)
            manyParts.Append($"--b\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nx\r\n");
        manyParts.Append("--b--\r\n");

        var cases = new List<(string Name, Func<Task<HttpResponseMessage>> Send, HttpStatusCode? Expected, string? Says)>
        {
            ("1x1 image", () => doctor.PostAsync("/api/screenings", Upload(Png(1, 1), "dot.png")), (HttpStatusCode)422, "only 1x1 pixels"),
            ("1x1 image, grade anyway", () => doctor.PostAsync("/api/screenings", Upload(Png(1, 1), "dot.png", gradeAnyway: true)), (HttpStatusCode)422, "only 1x1"),
            ("100000x1 image", () => doctor.PostAsync("/api/screenings", Upload(Png(100_000, 1), "line.png")), (HttpStatusCode)422, "100000x1"),
            ("1x100000 image", () => doctor.PostAsync("/api/screenings", Upload(Png(1, 100_000), "column.png")), (HttpStatusCode)422, "1x100000"),
            ("4000x10 image", () => doctor.PostAsync("/api/screenings", Upload(Png(4000, 10), "strip.png", gradeAnyway: true)), (HttpStatusCode)422, "4000x10"),
            ("4000x40 strip", () => doctor.PostAsync("/api/screenings", Upload(Png(4000, 40), "strip.png")), (HttpStatusCode)422, "strip"),
            ("multipart without a boundary", () => doctor.PostAsync("/api/screenings", Raw("--x\r\n", "multipart/form-data")), HttpStatusCode.BadRequest, null),
            ("truncated multipart", () => doctor.PostAsync("/api/screenings",
                Raw("--b\r\nContent-Disposition: form-data; name=\"images\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG", "multipart/form-data; boundary=b")),
                HttpStatusCode.BadRequest, null),
            ("more than 1024 form parts", () => doctor.PostAsync("/api/screenings", Raw(manyParts.ToString(), "multipart/form-data; boundary=b")), HttpStatusCode.BadRequest, "1024"),
            ("unknown route", () => doctor.GetAsync("/api/nothing-here"), HttpStatusCode.NotFound, "no API endpoint"),
            ("wrong method", () => doctor.DeleteAsync("/api/screenings"), HttpStatusCode.MethodNotAllowed, null),
            ("malformed JSON", () => admin.PostAsync("/api/training-runs", Raw("{ \"settings\": ", "application/json")), HttpStatusCode.BadRequest, null),
            ("no token", () => factory.ApiClient(null).GetAsync($"/api/screenings/{Guid.NewGuid()}"), HttpStatusCode.Unauthorized, null),
        };

        var failures = new List<string>();
        foreach (var (name, send, expected, says) in cases)
        {
            var response = await send();
            string body = await response.Content.ReadAsStringAsync();
            string? type = response.Content.Headers.ContentType?.MediaType;
            if ((int)response.StatusCode >= 500) failures.Add($"{name}: {(int)response.StatusCode}");
            if (expected is not null && response.StatusCode != expected) failures.Add($"{name}: {(int)response.StatusCode}, expected {(int)expected}");
            if (type != "application/problem+json") failures.Add($"{name}: content type {type ?? "none"}, body '{body[..Math.Min(80, body.Length)]}'");
            if (says is not null && !body.Contains(says, StringComparison.Ordinal)) failures.Add($"{name}: body does not say '{says}': {body[..Math.Min(200, body.Length)]}");
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Theory]
    [InlineData("/account/login")]
    [InlineData("/")]
    [InlineData("/hangfire")]
    [InlineData("/gallery/media/0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("/api/nothing-here")]
    [InlineData("/favicon.png")]
    public async Task Every_response_carries_the_security_headers(string path)
    {
        using var client = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var response = await client.GetAsync(path);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        string csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Contains("object-src 'none'", csp);
    }
}
