using DrWeb.Ml.Architectures;
using DrWeb.Ml.Manifest;
using DrWeb.Tests.Support;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace DrWeb.Tests.Ml.Architectures;

/// <summary>The study's comparison models, from TorchVision 0.107, with the paper head.</summary>
public class ComparisonModelTests
{
    public ComparisonModelTests() => TorchSetup.Ensure();

    [Trait("Category", "Slow")]
    [Fact]
    public void ResNet101_loads_a_torchvision_imagenet_state_dict_and_trains_layer4_and_the_head()
    {
        using var tmp = SharedData.TempFolder();
        using (var imagenet = torchvision.models.resnet101())
            imagenet.save_py(tmp.File("resnet101.pth"));

        using var model = new ResNet101(HeadKind.Paper);
        var report = CheckpointImporter.Load(model, tmp.File("resnet101.pth"), skipMismatchedClassifier: true);
        Assert.Equal(["fc.bias", "fc.weight"], report.SkippedClassifierKeys.Order().ToArray());
        Assert.Contains("layer4.2.bn3.running_var", model.state_dict().Keys);
        Assert.Equal([512L, 2048], model.state_dict()["fc.0.weight"].shape);

        model.ApplyTrainablePolicy(model.PaperPolicy);
        Assert.All(model.named_parameters().Where(p => p.parameter.requires_grad), p => Assert.Matches(@"^(layer4\.|fc\.)", p.name));
        Assert.Equal("layer3", model.FrozenPrefixEnd());
        model.SetTrainingMode(false);
        using var _ = no_grad();
        using var x = randn(1, 3, 224, 224);
        using var y = model.call(x);
        Assert.Equal([1L, 5], y.shape);
        var split = model.SplitAt(x, "layer4");
        Assert.True(split.Rest(split.Activation).allclose(y, atol: 1e-5));
    }

    /// <summary>About 50 s, and writes a 528 MB checkpoint. Slow lane.</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void Vgg16_keeps_torchvision_feature_names_and_trains_its_last_conv_block_and_the_head()
    {
        using var tmp = SharedData.TempFolder();
        using (var imagenet = torchvision.models.vgg16())
            imagenet.save_py(tmp.File("vgg16.pth"));

        using var model = new Vgg16(HeadKind.Paper);
        var report = CheckpointImporter.Load(model, tmp.File("vgg16.pth"), skipMismatchedClassifier: true);
        Assert.Equal(6, report.SkippedClassifierKeys.Count); // torchvision's three classifier Linear layers
        Assert.Equal([512L, 512, 3, 3], model.state_dict()["features.28.weight"].shape);
        Assert.Equal([512L, 25088], model.state_dict()["classifier.0.weight"].shape);

        model.ApplyTrainablePolicy(model.PaperPolicy);
        Assert.All(model.named_parameters().Where(p => p.parameter.requires_grad), p => Assert.Matches(@"^(features\.(24|26|28)\.|classifier\.)", p.name));
        Assert.Equal("features.23", model.FrozenPrefixEnd());
        model.SetTrainingMode(false);
        using var _ = no_grad();
        using var x = randn(1, 3, 224, 224);
        using var y = model.call(x);
        Assert.Equal([1L, 5], y.shape);
        var cam = new DrWeb.Ml.Explain.GradCam().Compute(model, x)[0];
        Assert.Equal((14, 14), (cam.Raw.Height, cam.Raw.Width));
    }
}
