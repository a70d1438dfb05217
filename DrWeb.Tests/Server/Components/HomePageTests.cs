using DrWeb.Tests.Support;

namespace DrWeb.Tests.Server.Components;

public class HomePageTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    [Fact]
    public async Task Home_page_has_the_app_bar_navigation_and_engine_status()
    {
        TorchSetup.Ensure();
        using var client = await factory.SignedInClientAsync();
        string html = await client.GetStringAsync("/");

        Assert.Contains("mud-appbar", html);
        Assert.Contains("href=\"screening\"", html);
        Assert.Contains("href=\"gallery\"", html);
        Assert.Contains("href=\"training\"", html);
        Assert.Contains("Diabetic retinopathy screening and teaching", html);
        Assert.Contains("Model engine: libtorch", html);

        var icon = System.Text.RegularExpressions.Regex.Match(html, "<link rel=\"icon\" type=\"image/png\" href=\"([^\"]+)\"").Groups[1].Value;
        Assert.StartsWith("favicon", icon);
        var response = await client.GetAsync("/" + icon);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Home_page_names_the_starter_model_as_a_demonstration_model()
    {
        using var client = await factory.SignedInClientAsync();
        string html = await client.GetStringAsync("/");
        Assert.Contains("demonstration model, not for clinical use", html);
        Assert.Contains("referable ROC AUC", html);
        // It says what actually grades: the active version, by name and architecture.
        Assert.Contains("Model in use: screening-resnet18, a resnet18", html);
        Assert.Contains("now a resnet18", html);
        Assert.DoesNotContain("A DenseNet121, pretrained", html);
    }

    [Theory]
    [InlineData("/screening", "Screening")]
    [InlineData("/screening/history", "Screening history")]
    [InlineData("/gallery", "Teaching gallery")]
    [InlineData("/training", "Training")]
    public async Task Each_section_has_a_page(string path, string heading)
    {
        using var client = await factory.SignedInClientAsync();
        string html = await client.GetStringAsync(path);
        Assert.Contains(heading, html);
    }

    [Fact]
    public async Task Mudblazor_assets_are_served_locally()
    {
        using var client = await factory.SignedInClientAsync();
        using var css = await client.GetAsync("/_content/MudBlazor/MudBlazor.min.css");
        Assert.True(css.IsSuccessStatusCode);
    }
}
