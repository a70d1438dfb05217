using System.Net;
using System.Text.Json;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Manifest;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform;
using DrWeb.Server.Registry;
using DrWeb.Server.Screening;
using DrWeb.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Tests.Server.Screening;

/// <summary>
/// Each screening keeps the picture the model was given, next to the original: on the case page, in the API, and with
/// the overlay drawn where it belongs. Run with a cropping and a whole-frame model (the starter's weights with either
/// preprocessing recorded), whatever the starter itself uses.
/// </summary>
public class ModelViewScreeningTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    private static string StarterFolder => ShippedModel.Folder;
    private static readonly string Photo = Path.Combine(SharedData.FundusRawImages, "17_left.jpeg");

    private async Task UseStarterWeightsWithAsync(string name, Preprocessing prep)
    {
        var registry = factory.Services.GetRequiredService<ModelRegistry>();
        var imports = factory.Services.GetRequiredService<ModelImports>();
        if ((await registry.ListAsync()).SingleOrDefault(v => v.Name == name) is not { } version)
        {
            using var folder = new TempFolder();
            string source = Path.Combine(folder.Path, name);
            Directory.CreateDirectory(source);
            var manifest = ModelDirectory.ReadManifest(StarterFolder);
            File.WriteAllText(Path.Combine(source, ModelManifest.FileName),
                JsonSerializer.Serialize(manifest with { Preprocessing = prep }, ModelManifest.Json));
            foreach (string file in manifest.AllWeightsFiles)
                File.Copy(Path.Combine(StarterFolder, file), Path.Combine(source, file));
            var imported = await imports.ImportModelFolderAsync(source);
            Assert.True(imported.Succeeded, imported.Message);
            version = (await registry.ListAsync()).Single(v => v.Name == name);
        }
        var activated = await registry.ActivateAsync(version.Id, DrWebFactory.AdminEmail);
        Assert.True(activated.Succeeded, activated.Message);
    }

    private static Preprocessing StarterPreprocessing => ModelDirectory.ReadManifest(StarterFolder).Preprocessing;

    [Trait("Category", "Slow")]
    [Theory]
    [InlineData("cropping-graham", true, ColourRecipe.Graham)]
    [InlineData("whole-frame", false, ColourRecipe.None)]
    public async Task A_screening_keeps_the_models_view_and_draws_the_heatmap_where_it_belongs(string name, bool crop, ColourRecipe recipe)
    {
        _ = factory.Server;
        var prep = StarterPreprocessing with { CropFundus = crop, Recipe = recipe };
        await UseStarterWeightsWithAsync(name, prep);
        byte[] bytes = File.ReadAllBytes(Photo);

        var outcome = await factory.Services.GetRequiredService<ScreeningService>().ScreenAsync(new ScreeningUpload("17_left.jpeg", bytes) { UploadedBy = DrWebFactory.AdminEmail });

        Assert.True(outcome.Succeeded, outcome.Error);
        var p = outcome.Prediction!;
        var store = factory.Services.GetRequiredService<IImageStore>();
        using var decoded = new ImageDecoder().Decode(Photo);
        using var expected = ModelInput.Prepare(decoded.Pixels, prep);
        using var stored = Image.Load<Rgb24>(store.Read(p.ModelViewHash!));
        int size = prep.InputSize;
        var storedPixels = new Rgb24[size * size];
        var expectedPixels = new Rgb24[size * size];
        stored.CopyPixelDataTo(storedPixels);
        expected.Image.CopyPixelDataTo(expectedPixels);
        Assert.Equal(expectedPixels, storedPixels);
        Assert.Equal(expected.Description, p.ModelViewNote);
        Assert.Equal(crop, p.HeatmapOnModelView);

        using var overlay = Image.Load<Rgb24>(store.Read(p.OverlayHash));
        Assert.Equal(crop ? (size, size) : (decoded.Width, decoded.Height), (overlay.Width, overlay.Height));

        // The uploader's case page shows the original and the model's view side by side, with the sentence on how it was made.
        using var client = await factory.SignedInClientAsync();
        string html = await client.GetStringAsync($"/screening/case/{outcome.Case!.Id}");
        Assert.Contains("data-testid=\"original-view\"", html);
        Assert.Contains("data-testid=\"model-view\"", html);
        Assert.Contains(WebUtility.HtmlEncode(expected.Description), html);
        Assert.Contains("image quality: Good", html);
    }

    [Trait("Category", "Slow")]
    [Fact]
    public async Task The_api_links_the_original_and_the_models_view()
    {
        _ = factory.Server;
        await UseStarterWeightsWithAsync("cropping-clahe", StarterPreprocessing with { CropFundus = true, Recipe = ColourRecipe.Clahe });
        using var client = factory.ApiClient((await factory.ApiTokenAsync(AccountSetup.Doctor)).Secret);
        byte[] bytes = File.ReadAllBytes(Photo);
        var response = await client.PostAsync("/api/screenings",
            new MultipartFormDataContent { { new ByteArrayContent(bytes), "image", "17_left.jpeg" } });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var item = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("results")[0];

        Assert.Equal("Good", item.GetProperty("qualityVerdict").GetString());
        Assert.StartsWith("Fundus cropped to the circle", item.GetProperty("modelViewNote").GetString());
        Assert.True(item.GetProperty("heatmapOnModelView").GetBoolean());

        var original = await client.GetAsync(item.GetProperty("originalUrl").GetString());
        Assert.Equal("image/jpeg", original.Content.Headers.ContentType!.MediaType);
        Assert.Equal(bytes, await original.Content.ReadAsByteArrayAsync());

        var view = await client.GetAsync(item.GetProperty("modelViewUrl").GetString());
        Assert.Equal("image/png", view.Content.Headers.ContentType!.MediaType);
        using var picture = Image.Load<Rgb24>(await view.Content.ReadAsByteArrayAsync());
        int size = StarterPreprocessing.InputSize;
        Assert.Equal((size, size), (picture.Width, picture.Height));

        using var overlay = Image.Load<Rgb24>(await client.GetByteArrayAsync(item.GetProperty("overlayUrl").GetString()));
        Assert.Equal((size, size), (overlay.Width, overlay.Height));

        // A case that does not exist is a clear 404, not an empty image.
        var missing = await client.GetAsync($"/api/screenings/{Guid.NewGuid()}/model-view");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
