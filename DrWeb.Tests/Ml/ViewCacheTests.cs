using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Models;
using DrWeb.Ml.Training;
using DrWeb.Tests.Support;
using static TorchSharp.torch;
using DrWeb.Ml.Manifest;

namespace DrWeb.Tests.Ml;

public class ViewCacheTests
{
    public ViewCacheTests() => TorchSetup.Ensure();

    [Fact]
    public void Key_changes_with_preprocessing_augmentation_view_seed_and_frozen_weights_but_not_trained_weights()
    {
        using var model = CntkResNet18.Pretrained();
        model.ApplyTrainablePolicy(TrainablePolicy.Parse("layer4,fc", model));
        var prep = Preprocessing.BgrMeanImage224 with { CropFundus = true, Recipe = ColourRecipe.Clahe };
        var augmentation = new AugmentationOptions();
        string key = FrozenViewCache.KeyFor(model, "layer3", prep, augmentation, viewSeed: 1);

        Assert.Equal(key, FrozenViewCache.KeyFor(model, "layer3", prep, augmentation, 1));
        Assert.NotEqual(key, FrozenViewCache.KeyFor(model, "layer3", prep with { Recipe = ColourRecipe.Graham }, augmentation, 1));
        Assert.NotEqual(key, FrozenViewCache.KeyFor(model, "layer3", prep with { CropFundus = false }, augmentation, 1));
        Assert.NotEqual(key, FrozenViewCache.KeyFor(model, "layer3", prep, augmentation with { RotationDegrees = 10 }, 1));
        Assert.NotEqual(key, FrozenViewCache.KeyFor(model, "layer3", prep, augmentation, 2));
        Assert.NotEqual(key, FrozenViewCache.KeyFor(model, "layer2", prep, augmentation, 1));

        var state = model.state_dict();
        string head = state.Keys.First(k => k.StartsWith("fc.", StringComparison.Ordinal) && k.EndsWith(".weight", StringComparison.Ordinal));
        using (no_grad()) state[head].add_(0.5f);
        Assert.Equal(key, FrozenViewCache.KeyFor(model, "layer3", prep, augmentation, 1));
        using (no_grad()) state["layer1.0.conv1.weight"].add_(1e-3f);
        Assert.NotEqual(key, FrozenViewCache.KeyFor(model, "layer3", prep, augmentation, 1));
    }

    [Fact]
    public void A_new_key_starts_empty_and_stored_views_read_back_as_their_fp16_rounding()
    {
        using var tmp = SharedData.TempFolder();
        using var scope = NewDisposeScope();
        long[] shape = [2, 3, 3];
        var first = new FrozenViewCache(tmp.Path, "aaaa", shape, 1 << 20);
        var values = randn(shape) * 100;
        var rounded = first.Store("img-0.f16", values);
        Assert.True(rounded.allclose(values.to(ScalarType.Float16).to(ScalarType.Float32), 0, 0));
        Assert.False(rounded.allclose(values, 0, 0), "random values should not all be representable in fp16");

        var reopened = new FrozenViewCache(tmp.Path, "aaaa", shape, 1 << 20);
        var read = reopened.TryRead("img-0.f16");
        Assert.NotNull(read);
        Assert.True(read!.allclose(rounded, 0, 0));
        Assert.Equal(1, reopened.Hits);

        var other = new FrozenViewCache(tmp.Path, "bbbb", shape, 1 << 20);
        Assert.False(other.Contains("img-0.f16"));
        Assert.Null(other.TryRead("img-0.f16"));
        Assert.Equal(1, other.Misses);
    }

    [Fact]
    public void The_folder_stays_within_its_bound_evicting_other_keys_first()
    {
        using var tmp = SharedData.TempFolder();
        using var scope = NewDisposeScope();
        long[] shape = [4, 4, 2];
        long view = 4 * 4 * 2 * 2;
        var old = new FrozenViewCache(tmp.Path, "old", shape, 3 * view);
        old.Store("a-0.f16", randn(shape));
        old.Store("b-0.f16", randn(shape));

        var current = new FrozenViewCache(tmp.Path, "new", shape, 3 * view);
        Assert.Equal(2 * view, current.SizeBytes);
        for (int i = 0; i < 5; i++)
        {
            current.Store($"x{i}-0.f16", randn(shape));
            long onDisk = Directory.EnumerateFiles(tmp.Path, "*.f16", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            Assert.True(onDisk <= 3 * view, $"{onDisk} bytes on disk after {i + 1} stores, bound {3 * view}");
            Assert.Equal(onDisk, current.SizeBytes);
        }
        Assert.Equal(2, current.Evicted);
        Assert.Equal(2, current.NotStored);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(tmp.Path, "old"), "*.f16"));
        Assert.True(current.Contains("x2-0.f16"));
        Assert.False(current.Contains("x3-0.f16"));
    }
}

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
