using DrWeb.Ml.Architectures;
using DrWeb.Ml.Explain;
using DrWeb.Tests.Support;
using static TorchSharp.torch;

namespace DrWeb.Tests.Ml.Architectures;

public class PyTorchParityTests(ReferenceModelFixture fixture, Xunit.Abstractions.ITestOutputHelper log) : IClassFixture<ReferenceModelFixture>
{
    [Fact]
    public void Reference_state_dict_loads_every_key()
    {
        Assert.Equal(739, fixture.Report.LoadedKeys);
        Assert.Empty(fixture.Report.SkippedClassifierKeys);
        Assert.Empty(fixture.Report.MissingBatchCounters);
        // The reference sets every BatchNorm's step counter to 7; loading must carry buffers, not just parameters.
        Assert.Equal(7L, fixture.Model.state_dict()["features.denseblock3.denselayer5.norm2.num_batches_tracked"].item<long>());
    }

    [Theory]
    [InlineData("lin")]
    [InlineData("wave")]
    public void Logits_and_pooled_features_match_pytorch(string input)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = ReferenceModelFixture.Input(input);
        float[] logits = fixture.Model.call(x).data<float>().ToArray();
        float[] pooled = fixture.Model.PooledFeatures(x).data<float>().ToArray();

        float[] refLogits = ReferenceModelFixture.Reference($"{input}_logits.f32");
        float[] refPooled = ReferenceModelFixture.Reference($"{input}_pooled.f32");
        log.WriteLine($"{input}: max |logits - PyTorch| = {F32.MaxAbsDiff(logits, refLogits):E2}, max |pooled - PyTorch| = {F32.MaxAbsDiff(pooled, refPooled):E2}");
        Assert.True(F32.MaxAbsDiff(logits, refLogits) < 1e-4, $"logits differ by {F32.MaxAbsDiff(logits, refLogits)}");
        Assert.True(F32.MaxAbsDiff(pooled, refPooled) < 1e-4, $"pooled features differ by {F32.MaxAbsDiff(pooled, refPooled)}");
        Assert.Equal(Array.IndexOf(refLogits, refLogits.Max()), Array.IndexOf(logits, logits.Max()));
        // Eval mode must not touch BatchNorm statistics.
        Assert.Equal(7L, fixture.Model.state_dict()["features.norm0.num_batches_tracked"].item<long>());
    }

    [Theory]
    [InlineData("lin", "block4", "features.denseblock4")]
    [InlineData("lin", "dl16", "features.denseblock4.denselayer16")]
    [InlineData("wave", "block4", "features.denseblock4")]
    [InlineData("wave", "dl16", "features.denseblock4.denselayer16")]
    public void GradCam_matches_pytorch(string input, string tag, string layer)
    {
        using var x = ReferenceModelFixture.Input(input);
        var cam = new GradCam().Compute(fixture.Model, x, layer)[0];

        float[] refCam = ReferenceModelFixture.Reference($"{input}_{tag}_cam224.f32");
        float[] refWeights = ReferenceModelFixture.Reference($"{input}_{tag}_weights.f32");
        float[] refRaw = ReferenceModelFixture.Reference($"{input}_{tag}_cam7.f32");
        float[] refLogits = ReferenceModelFixture.Reference($"{input}_logits.f32");

        Assert.Equal(Array.IndexOf(refLogits, refLogits.Max()), cam.TargetClass);
        Assert.Equal((224, 224), (cam.Map.Height, cam.Map.Width));
        Assert.Equal((7, 7), (cam.Raw.Height, cam.Raw.Width));
        float camDiff = F32.MaxAbsDiff(cam.Map.Values, refCam);
        log.WriteLine($"{input} {tag}: max |CAM224 - PyTorch| = {camDiff:E2}");
        Assert.True(camDiff < 1e-3, $"normalised CAM differs by {camDiff}");
        // Raw values are ~1e-4 (the paper head has no non-linearity), so compare them relative to their scale.
        float rawScale = refRaw.Max();
        Assert.True(F32.MaxAbsDiff(cam.Raw.Values, refRaw) / rawScale < 1e-2, "raw CAM differs");
        float weightScale = refWeights.Max(Math.Abs);
        Assert.True(F32.MaxAbsDiff(cam.ChannelWeights, refWeights) / weightScale < 1e-2, "channel weights differ");
    }

    [Fact]
    public void GradCam_can_explain_a_chosen_class()
    {
        using var x = ReferenceModelFixture.Input("lin");
        var top = new GradCam().Compute(fixture.Model, x)[0];
        int other = (top.TargetClass + 1) % 5;
        var chosen = new GradCam().Compute(fixture.Model, x, targetClasses: [other])[0];
        Assert.Equal(other, chosen.TargetClass);
        Assert.True(F32.MaxAbsDiff(top.ChannelWeights, chosen.ChannelWeights) > 0, "different classes must weigh channels differently");
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void Every_cam_layer_splits_to_the_same_logits_as_a_plain_forward()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = ReferenceModelFixture.Input("wave");
        float[] plain = fixture.Model.call(x).data<float>().ToArray();
        foreach (string layer in fixture.Model.CamLayers.Where((_, i) => i % 7 == 0).Append("features.denseblock4.denselayer1"))
        {
            var split = fixture.Model.SplitAt(x, layer);
            float[] resumed = split.Rest(split.Activation).data<float>().ToArray();
            Assert.True(F32.MaxAbsDiff(plain, resumed) < 1e-6, $"split at {layer} changes the logits");
        }
        Assert.Throws<ArgumentException>(() => fixture.Model.SplitAt(x, "features.denseblock9"));
    }

    [Theory]
    [InlineData("features.denseblock4.denselayer13")]
    [InlineData("features.transition2")]
    [InlineData("features.pool0")]
    public void Partition_prefix_then_suffix_equals_a_plain_forward(string layer)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = ReferenceModelFixture.Input("lin");
        float[] plain = fixture.Model.call(x).data<float>().ToArray();
        var (prefix, suffix) = fixture.Model.Partition(layer);
        float[] parts = suffix(prefix(x)).data<float>().ToArray();
        Assert.True(F32.MaxAbsDiff(plain, parts) < 1e-6, $"partition at {layer} changes the logits");
    }

    [Fact]
    public void Paper_policy_freezes_everything_up_to_denselayer13()
    {
        using var model = new DenseNet121();
        model.ApplyTrainablePolicy(model.PaperPolicy);
        Assert.Equal("features.denseblock4.denselayer13", model.FrozenPrefixEnd());
        model.ApplyTrainablePolicy(TrainablePolicy.HeadOnly(model));
        Assert.Equal("features.norm5", model.FrozenPrefixEnd());
    }
}
