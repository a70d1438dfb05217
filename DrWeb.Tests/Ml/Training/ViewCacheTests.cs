using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Training;
using DrWeb.Tests.Support;
using static TorchSharp.torch;

namespace DrWeb.Tests.Ml.Training;

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
