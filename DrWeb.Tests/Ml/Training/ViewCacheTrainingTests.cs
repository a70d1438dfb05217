using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Manifest;
using DrWeb.Ml.Training;
using DrWeb.Tests.Support;
using static TorchSharp.torch;

namespace DrWeb.Tests.Ml.Training;

/// <summary>The view cache inside real training runs.</summary>
[Trait("Category", "RealDataTraining")]
public class ViewCacheTrainingTests(TinySetFixture fixture) : IClassFixture<TinySetFixture>
{
    private static readonly TrainingOptions Options = new()
    {
        Epochs = 2, BatchSize = 8, Trainable = "layer4,fc", LearningRate = 3e-4, Seed = 5, ViewsPerImage = 2,
        Sampler = SamplerKind.Weighted, MaxBatchesPerEpoch = 3, Loader = new LoaderOptions { Workers = 1, Prefetch = 1 },
    };

    private static readonly Preprocessing Prep = Preprocessing.BgrMeanImage224 with { CropFundus = true, Recipe = ColourRecipe.Clahe };

    [Fact]
    public void A_cached_view_equals_the_prefix_output_of_its_augmentation_and_a_rerun_reads_every_view()
    {
        using var tmp = SharedData.TempFolder();
        var settings = new ViewCacheSettings(tmp.File("views"), 1L << 30);
        var images = fixture.Set.Dataset.Images;

        var first = new Trainer(CntkResNet18.Pretrained(), Prep, Options, settings);
        using var a = first.Model;
        var firstResult = first.Run(images, tmp.File("first.bin"));
        var cache = first.Views!;
        Assert.True(cache.Misses > 0);
        var augmented = Directory.EnumerateFiles(cache.Folder, "*.f16").Select(Path.GetFileName).Where(n => !n!.EndsWith("-plain.f16")).ToList();
        Assert.NotEmpty(augmented);

        // Recompute three views from the photograph, as a fresh run without the cache would, and compare.
        using var model = CntkResNet18.Pretrained();
        model.ApplyTrainablePolicy(TrainablePolicy.Parse(Options.Trainable, model));
        model.SetTrainingMode(false);
        var prefix = model.Partition("layer3").Prefix;
        var byKey = images.ToDictionary(FrozenViewCache.ImageKey);
        var decoder = new ImageDecoder();
        foreach (string entry in augmented.Take(3)!)
        {
            using var scope = NewDisposeScope();
            string imageKey = entry![..entry.LastIndexOf('-')];
            int view = int.Parse(entry[(entry.LastIndexOf('-') + 1)..^4]);
            var draw = FrozenViewCache.Draw(imageKey, view, Options.ViewSeed);
            using var decoded = decoder.Decode(byKey[imageKey].Path);
            using var prepared = ModelInput.View(decoded.Pixels, Prep)!;
            using var augmentedImage = FundusAugmentation.Apply(prepared, Options.Augmentation, draw.Seed, draw.Epoch, draw.Index);
            var pixels = new float[3 * 224 * 224];
            ModelInput.Fill(augmentedImage, Prep, pixels);
            Tensor expected;
            using (no_grad()) expected = prefix(tensor(pixels, [1, 3, 224, 224]))[0].to(ScalarType.Float16).to(ScalarType.Float32);
            var stored = cache.TryRead(entry)!;
            double scale = expected.abs().max().item<float>();
            double diff = (stored - expected).abs().max().item<float>();
            Assert.True(diff <= 2e-3 * scale, $"{entry}: cached view differs from the recomputed one by {diff} (scale {scale})");
        }

        // The same run again draws the same views: every one is read, none computed, and training is identical.
        var second = new Trainer(CntkResNet18.Pretrained(), Prep, Options, settings);
        using var b = second.Model;
        var secondResult = second.Run(images, tmp.File("second.bin"));
        Assert.Equal(0, second.Views!.Misses);
        Assert.True(second.Views.Hits > 0);
        for (int e = 0; e < firstResult.History.Count; e++)
            Assert.Equal(firstResult.History[e].TrainLoss, secondResult.History[e].TrainLoss, 5);
    }

    [Fact]
    public void Cached_views_need_a_folder_and_augmentation()
    {
        var trainer = new Trainer(CntkResNet18.Pretrained(), Prep, Options);
        using var _ = trainer.Model;
        using var tmp = SharedData.TempFolder();
        var e = Assert.Throws<ArgumentException>(() => trainer.Run(fixture.Set.Dataset.Images, tmp.File("x.bin")));
        Assert.Contains("cache folder", e.Message);
        var noAugment = Assert.Throws<ArgumentException>(() => (Options with { Augmentation = AugmentationOptions.None }).Validate());
        Assert.Contains("augmentation on", noAugment.Message);
    }
}
