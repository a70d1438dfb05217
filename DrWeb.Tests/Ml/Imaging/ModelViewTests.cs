using DrWeb.Ml.Explain;
using DrWeb.Ml.Imaging;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Tests.Ml.Imaging;

/// <summary>The model's view: what is shown to doctors is the very picture the tensor is made of.</summary>
public class ModelViewTests
{
    public ModelViewTests() => TorchSetup.Ensure();

    private static readonly ImageDecoder Decoder = new();

    private static Rgb24[] PixelsOf(Image<Rgb24> image)
    {
        var pixels = new Rgb24[image.Width * image.Height];
        image.CopyPixelDataTo(pixels);
        return pixels;
    }

    [Theory]
    [InlineData("raw", "17_left.jpeg", ColourRecipe.Graham)]
    [InlineData("raw", "59_left.jpeg", ColourRecipe.None)]
    [InlineData("dev", "10007_left.jpeg", ColourRecipe.Clahe)]
    public void Reusing_the_quality_gates_detection_gives_the_same_view_as_a_fresh_search(string set, string file, ColourRecipe recipe)
    {
        string path = set == "raw" ? Path.Combine(SharedData.FundusRawImages, file) : SharedData.FundusDevImage(file);
        using var image = Decoder.Decode(path);
        var prep = Preprocessing.ImageNet224 with { CropFundus = true, Recipe = recipe };
        var quality = QualityGate.Assess(image.Pixels);
        Assert.NotNull(quality.Location);

        using var reused = ModelInput.Prepare(image.Pixels, prep, quality.Location);
        using var fresh = ModelInput.Prepare(image.Pixels, prep);

        Assert.Equal(PixelsOf(fresh.Image), PixelsOf(reused.Image));
        Assert.Equal(fresh.Description, reused.Description);
        Assert.True(reused.Prepared);
        Assert.Equal((224, 224), (reused.Image.Width, reused.Image.Height));
        if (set == "raw")
        {
            // The sentence shown to the doctor names the circle the quality gate measured.
            Assert.StartsWith("Fundus cropped to the circle", reused.Description);
            Assert.Contains($"{quality.FundusDiameter:0} px across", reused.Description);
        }
        else
        {
            Assert.StartsWith("Already a fundus crop", reused.Description);
        }
        Assert.Contains(recipe == ColourRecipe.None ? "no colour recipe" : $"colour recipe {recipe.ToString().ToLowerInvariant()}", reused.Description);
    }

    [Fact]
    public void The_view_shown_is_what_the_tensor_is_made_of_for_cropping_and_non_cropping_models()
    {
        using var image = Decoder.Decode(Path.Combine(SharedData.FundusRawImages, "17_left.jpeg"));
        foreach (var prep in new[] { Preprocessing.BgrMeanImage224, Preprocessing.ImageNet224 with { CropFundus = true, Recipe = ColourRecipe.Graham } })
        {
            using var view = ModelInput.Prepare(image.Pixels, prep);
            using var fromView = ModelInput.ToTensor(view, prep);
            using var direct = ModelInput.ToTensor(image, prep);
            Assert.Equal(direct.data<float>().ToArray(), fromView.data<float>().ToArray());

            // A cropping model's heatmap goes on its view; a whole-frame model's on the full-resolution original.
            Assert.Equal(prep.HasView, view.Prepared);
            Assert.Same(prep.HasView ? view.Image : image.Pixels, view.HeatmapBase(image.Pixels));

            using var png = Image.Load<Rgb24>(view.ToPng());
            Assert.Equal(PixelsOf(view.Image), PixelsOf(png));
        }
        using var whole = ModelInput.Prepare(image.Pixels, Preprocessing.BgrMeanImage224);
        Assert.Contains("stretched to 224 x 224", whole.Description);
        Assert.Null(whole.FieldOfView);
    }

    [Fact]
    public void A_picture_without_a_fundus_is_framed_whole_and_says_so()
    {
        using var gradient = new Image<Rgb24>(600, 400);
        gradient.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++) row[x] = new Rgb24((byte)(x * 255 / 600), 128, (byte)(y * 255 / 400));
            }
        });
        var quality = QualityGate.Assess(gradient);
        Assert.Null(quality.Location);
        using var view = ModelInput.Prepare(gradient, Preprocessing.ImageNet224 with { CropFundus = true }, quality.Location);
        Assert.StartsWith("No fundus circle was found", view.Description);
        Assert.Equal((224, 224), (view.Image.Width, view.Image.Height));
    }

    [Fact]
    public void A_grader_refuses_a_view_made_for_another_model_and_a_circle_from_another_picture_is_not_reused()
    {
        var (model, manifest) = DrWeb.Ml.Architectures.ModelDirectory.Load(ShippedModel.Folder);
        using var grader = new DrWeb.Ml.Inference.Grader(model, manifest.Preprocessing);
        using var image = Decoder.Decode(Path.Combine(SharedData.FundusRawImages, "17_left.jpeg"));
        var other = manifest.Preprocessing with { CropFundus = !manifest.Preprocessing.CropFundus };
        using var wrong = ModelInput.Prepare(image.Pixels, other);
        var refused = Assert.Throws<ArgumentException>(() => grader.Grade(wrong, explain: false));
        Assert.Contains("another model's preprocessing", refused.Message);
        using var right = ModelInput.Prepare(image.Pixels, grader.Preprocessing);
        Assert.Equal(1f, grader.Grade(right, explain: false).Probabilities.Values.Sum(), 3);

        // The circle found on a different photograph (another size) is ignored: the view is the one a fresh search makes.
        using var dev = Decoder.Decode(SharedData.FundusDevImage());
        var foreign = QualityGate.Assess(dev.Pixels).Location;
        var crop = Preprocessing.ImageNet224 with { CropFundus = true };
        using var guarded = ModelInput.Prepare(image.Pixels, crop, foreign);
        using var fresh = ModelInput.Prepare(image.Pixels, crop);
        Assert.Equal(PixelsOf(fresh.Image), PixelsOf(guarded.Image));
    }

    [Fact]
    public void An_overlay_on_the_view_has_the_views_size()
    {
        using var image = Decoder.Decode(Path.Combine(SharedData.FundusRawImages, "17_left.jpeg"));
        using var view = ModelInput.Prepare(image.Pixels, Preprocessing.ImageNet224 with { CropFundus = true });
        var cam = new HeatMap(7, 7, Enumerable.Range(0, 49).Select(i => (float)i).ToArray());
        using var overlay = HeatmapOverlay.Render(view.HeatmapBase(image.Pixels), cam);
        Assert.Equal((224, 224), (overlay.Width, overlay.Height));
    }
}
