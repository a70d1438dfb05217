using Bunit;
using DrWeb.Ml.Data;
using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Registry;
using DrWeb.Server.Screening;
using DrWeb.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace DrWeb.Tests.Server.Components;

/// <summary>bunit tests of single components, rendered without a server.</summary>
public sealed class ComponentTests : IAsyncLifetime
{
    private readonly BunitContext _context = new();
    private readonly TempFolder _data = new();

    public ComponentTests()
    {
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        _context.Services.AddMudServices();
        _context.Services.AddSingleton(Options.Create(new DrWebOptions { DataFolder = _data.Path }));
        _context.Services.AddSingleton<DataFolder>();
        _context.Services.AddSingleton<IImageStore, FolderImageStore>();
        _context.Services.AddSingleton<DisplayImages>();
        // No model is active in these tests: the re-explain panel renders and has no layers to offer.
        _context.Services.AddLogging();
        _context.Services.AddSingleton<DrWeb.Server.Platform.TorchStartup>();
        _context.Services.AddSingleton<DrWeb.Server.Registry.ActiveModel>();
        _context.Services.AddSingleton<DrWeb.Server.Screening.CaseExplanations>();
    }

    private static ModelVersion Version(string name, double? auc, bool active) => new()
    {
        Name = name, Location = $"models/{name}", Source = ModelSource.Trained, Architecture = "densenet121", Head = "Paper", TrainablePolicy = "paper",
        Preprocessing = "224 px, MeanStd", ReferableAuc = auc, Sensitivity = 0.5, Specificity = 0.75, Kappa = 0.25,
        DataFingerprint = "abc123", TrainImages = 80, ValidationImages = 20, IsActive = active,
    };

    [Fact]
    public void The_version_table_shows_metrics_marks_the_active_one_and_activates_the_clicked_one()
    {
        ModelVersion? clicked = null;
        var versions = new[] { Version("first", 0.81234, active: true), Version("second", null, active: false), Version("third", 0.5, active: false) };
        var table = _context.Render<ModelVersionTable>(p => p
            .Add(x => x.Versions, versions)
            .Add(x => x.OnActivate, (ModelVersion v) => clicked = v));

        var aucs = table.FindAll("[data-testid=auc]").Select(e => e.TextContent.Trim()).ToList();
        Assert.Equal(["0.812", "—", "0.500"], aucs);
        Assert.Single(table.FindAll("[data-testid=active]"));
        var buttons = table.FindAll("button[data-testid=activate]");
        Assert.Equal(2, buttons.Count);

        buttons[1].Click();
        Assert.Same(versions[2], clicked);
    }

    [Fact]
    public void A_busy_table_disables_activation()
    {
        var table = _context.Render<ModelVersionTable>(p => p
            .Add(x => x.Versions, new[] { Version("only", 0.7, active: false) })
            .Add(x => x.Busy, true));
        Assert.True(table.Find("button[data-testid=activate]").HasAttribute("disabled"));
    }

    [Fact]
    public void A_screening_result_shows_the_stored_probabilities_grade_and_referable_decision()
    {
        var store = _context.Services.GetRequiredService<IImageStore>();
        string hash = store.Save(File.ReadAllBytes(SharedData.FundusDevImage()));
        float[] p = [0.05f, 0.10f, 0.20f, 0.60f, 0.05f];
        var screened = new Case { ImageHash = hash, FileName = "10007_left.jpeg", Format = "Jpeg", Width = 256, Height = 256, PatientId = "P-17", Eye = "left",
            QualityVerdict = "Ungradable", QualityReasons = "Blurred (sharpness 2.1).", QualityOverridden = true };
        var prediction = new Prediction
        {
            ModelVersion = "test-model", P0 = p[0], P1 = p[1], P2 = p[2], P3 = p[3], P4 = p[4], Grade = 3, Referable = true,
            ReferableProbability = 0.85f, ReferableRule = "argmax grade >= 2", CamLayer = "layer4.2", OverlayHash = hash,
        };

        var card = _context.Render<ScreeningResult>(x => x.Add(c => c.Case, screened).Add(c => c.Prediction, prediction));

        Assert.Contains($"Grade 3: {DrGrade.Name(3)}", card.Find("[data-testid=grade]").TextContent);
        Assert.StartsWith("Referable", card.Find("[data-testid=referable]").TextContent.Trim());
        Assert.Contains("0.850", card.Find("[data-testid=referable]").TextContent);
        var rows = card.FindAll("[data-testid=probability] .prob-value").Select(e => e.TextContent).ToList();
        Assert.Equal(p.Select(v => v.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)), rows);
        Assert.Contains("patient P-17", card.Markup);
        Assert.Contains("image quality: Ungradable (graded anyway by the doctor)", card.Find("[data-testid=quality]").TextContent);
        Assert.Equal("Blurred (sharpness 2.1).", card.Find("[data-testid=quality-reasons]").TextContent);
        // A case screened before the model's view was kept: the original, and the overlay on it.
        Assert.Empty(card.FindAll("[data-testid=model-view]"));
        Assert.Equal(2, card.FindAll("[data-testid=heatmap-stack] img").Count);

        card.Find("input[type=checkbox]").Change(false);
        Assert.Single(card.FindAll("[data-testid=heatmap-stack] img"));
    }

    [Fact]
    public void A_screening_result_shows_what_the_model_saw_next_to_the_original_with_the_heatmap_on_it()
    {
        var store = _context.Services.GetRequiredService<IImageStore>();
        string original = store.Save(File.ReadAllBytes(Path.Combine(SharedData.FundusRawImages, "17_left.jpeg")));
        using var view = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(224, 224);
        using var ms = new MemoryStream();
        view.Save(ms, new SixLabors.ImageSharp.Formats.Png.PngEncoder());
        string viewHash = store.Save(ms.ToArray());
        var screened = new Case { ImageHash = original, FileName = "17_left.jpeg", Format = "Jpeg", Width = 4752, Height = 3168, QualityVerdict = "Good" };
        var prediction = new Prediction
        {
            ModelVersion = "cropping-model", P0 = 1, Grade = 0, ReferableRule = "argmax grade >= 2", CamLayer = "layer4.2", OverlayHash = viewHash,
            ModelViewHash = viewHash, HeatmapOnModelView = true, ModelViewNote = "Fundus cropped to the circle 3100 px across centred at (2376, 1584), colour recipe graham, 224 x 224 px.",
        };

        var card = _context.Render<ScreeningResult>(x => x.Add(c => c.Case, screened).Add(c => c.Prediction, prediction));

        string originalSrc = card.Find("[data-testid=original-view] img").GetAttribute("src")!;
        string viewSrc = card.Find("[data-testid=model-view] img").GetAttribute("src")!;
        Assert.StartsWith("data:image/jpeg", originalSrc);
        // The model's view is sent as stored (lossless PNG), not re-encoded.
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(store.Read(viewHash)), viewSrc);
        Assert.Contains("What the model saw: Fundus cropped to the circle 3100 px across", card.Find("[data-testid=model-view] figcaption").TextContent);
        Assert.Equal(viewSrc, card.Find("[data-testid=heatmap-stack] img").GetAttribute("src"));
        Assert.Contains("image quality: Good", card.Find("[data-testid=quality]").TextContent);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // MudBlazor's services are only IAsyncDisposable.
    public async Task DisposeAsync()
    {
        await _context.DisposeAsync();
        _data.Dispose();
    }
}
