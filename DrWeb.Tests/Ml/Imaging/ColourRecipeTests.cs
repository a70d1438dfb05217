using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.ColorSpaces;
using SixLabors.ImageSharp.ColorSpaces.Conversion;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Tests.Ml.Imaging;

/// <summary>The colour recipes, and the one preprocessing path that training and inference share.</summary>
public class ColourRecipeTests
{
    private static readonly ImageDecoder Decoder = new();

    private static Image<Rgb24> RawView(string name = "59_left.jpeg")
    {
        using var image = Decoder.Decode(Path.Combine(SharedData.FundusRawImages, name));
        using var view = FundusCrop.Prepare(image.Pixels, 224)!;
        return view.Image.Clone();
    }

    private static (double Mean, double Std) Stats(Image<Rgb24> view, Func<Rgb24, double> channel, float radiusShare)
    {
        var values = new List<double>();
        float c = view.Width / 2f, r = ColourRecipes.RadiusIn(view) * radiusShare;
        view.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                    if ((x + 0.5f - c) * (x + 0.5f - c) + (y + 0.5f - c) * (y + 0.5f - c) <= r * r) values.Add(channel(row[x]));
            }
        });
        double mean = values.Average();
        return (mean, Math.Sqrt(values.Average(v => (v - mean) * (v - mean))));
    }

    /// <summary>Mean standard deviation of a channel over 16x16 blocks inside the field: what CLAHE is meant to raise.</summary>
    private static double LocalContrast(Image<Rgb24> view, Func<Rgb24, double> channel)
    {
        var values = new double[view.Width, view.Height];
        view.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++) values[x, y] = channel(row[x]);
            }
        });
        float c = view.Width / 2f, r = ColourRecipes.RadiusIn(view) * 0.8f;
        var stds = new List<double>();
        for (int by = 0; by + 16 <= view.Height; by += 16)
            for (int bx = 0; bx + 16 <= view.Width; bx += 16)
            {
                float dx = bx + 8 - c, dy = by + 8 - c;
                if (dx * dx + dy * dy > r * r) continue;
                var block = Enumerable.Range(0, 256).Select(i => values[bx + i % 16, by + i / 16]).ToList();
                double mean = block.Average();
                stds.Add(Math.Sqrt(block.Average(v => (v - mean) * (v - mean))));
            }
        return stds.Average();
    }

    [Fact]
    public void Graham_centres_the_local_colour_on_grey_and_greys_out_the_rim()
    {
        using var view = RawView();
        var before = Stats(view, p => p.R, 0.85f);
        ColourRecipes.Graham(view);
        var after = Stats(view, p => p.R, 0.85f);
        // 4·(img − local mean) + 128: the field averages to about mid grey whatever its original colour.
        Assert.InRange(after.Mean, 118, 138);
        Assert.NotInRange(before.Mean, 118, 138);
        // Outside 0.9 of the radius everything is exactly mid grey.
        var rim = new List<Rgb24>();
        float c = view.Width / 2f, r = ColourRecipes.RadiusIn(view);
        view.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
                for (int x = 0; x < rows.Width; x++)
                    if ((x + 0.5f - c) * (x + 0.5f - c) + (y + 0.5f - c) * (y + 0.5f - c) > 0.92f * 0.92f * r * r) rim.Add(rows.GetRowSpan(y)[x]);
        });
        Assert.All(rim, p => Assert.Equal(new Rgb24(128, 128, 128), p));
    }

    [Fact]
    public void Clahe_raises_the_contrast_of_lightness_and_keeps_the_colour()
    {
        using var view = RawView("406_left.jpeg"); // a dark, low-contrast fundus
        var converter = new ColorSpaceConverter();
        CieLab Lab(Rgb24 p) => converter.ToCieLab(new Rgb(p.R / 255f, p.G / 255f, p.B / 255f));
        var lBefore = LocalContrast(view, p => Lab(p).L);
        var aBefore = Stats(view, p => Lab(p).A, 0.85f);
        ColourRecipes.Clahe(view);
        var lAfter = LocalContrast(view, p => Lab(p).L);
        var aAfter = Stats(view, p => Lab(p).A, 0.85f);
        Assert.True(lAfter > 1.3 * lBefore, $"local L contrast {lBefore:0.00} -> {lAfter:0.00}");
        Assert.InRange(aAfter.Mean - aBefore.Mean, -4, 4);
    }

    [Fact]
    public void Clahe_tiles_equalise_and_respect_the_clip_limit()
    {
        // A flat channel stays flat (no noise amplification); a two-level channel is spread apart.
        var flat = Enumerable.Repeat((byte)90, 64 * 64).ToArray();
        Assert.Single(ColourRecipes.EqualiseTiles(flat, 64, 64, 8, 2).Distinct());
        var halves = Enumerable.Range(0, 64 * 64).Select(i => (byte)(i % 64 < 32 ? 100 : 110)).ToArray();
        var free = ColourRecipes.EqualiseTiles(halves, 64, 64, 1, 1000);
        var clipped = ColourRecipes.EqualiseTiles(halves, 64, 64, 1, 2);
        Assert.True(free.Max() - free.Min() > 100, $"{free.Max() - free.Min()}");
        // The clip limit is what stops CLAHE from blowing small differences (noise) up: a much smaller spread.
        Assert.InRange(clipped.Max() - clipped.Min(), 1, (free.Max() - free.Min()) / 2);
    }

    [Theory]
    [InlineData(ColourRecipe.None, true)]
    [InlineData(ColourRecipe.Graham, true)]
    [InlineData(ColourRecipe.Clahe, false)]
    public void Training_batches_and_inference_prepare_an_image_identically(ColourRecipe recipe, bool crop)
    {
        var prep = Preprocessing.ImageNet224 with { CropFundus = crop, Recipe = recipe };
        var image = new LabelledImage(Path.Combine(SharedData.FundusRawImages, "17_left.jpeg"), "17_left", 0, "17");
        var batch = BatchLoader.Batches([image], [0], 1, prep, AugmentationOptions.None, 0, 0).Single();
        using var decoded = Decoder.Decode(image.Path);
        using var inference = ModelInput.ToTensor(decoded, prep);
        Assert.Equal(batch.Pixels, inference.data<float>().ToArray());
    }

    [Fact]
    public void Models_without_a_view_step_see_exactly_what_they_did_before()
    {
        Assert.False(Preprocessing.BgrMeanImage224.HasView);
        using var image = Decoder.Decode(SharedData.FundusDevImage());
        Assert.Null(ModelInput.View(image.Pixels, Preprocessing.BgrMeanImage224));
        var json = System.Text.Json.JsonSerializer.Serialize(Preprocessing.ImageNet224 with { CropFundus = true, Recipe = ColourRecipe.Graham }, DrWeb.Ml.Manifest.ModelManifest.Json);
        Assert.Contains("\"Recipe\": \"Graham\"", json);
        var back = System.Text.Json.JsonSerializer.Deserialize<Preprocessing>(json, DrWeb.Ml.Manifest.ModelManifest.Json)!;
        Assert.True(back.CropFundus);
        Assert.Equal(ColourRecipe.Graham, back.Recipe);
        var old = System.Text.Json.JsonSerializer.Deserialize<Preprocessing>("""{"InputSize":224,"Normalisation":"BgrMeanImage","Mean":[],"Std":[]}""", DrWeb.Ml.Manifest.ModelManifest.Json)!;
        Assert.False(old.HasView);
    }
}
