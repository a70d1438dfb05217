using DrWeb.Ml.Architectures;
using DrWeb.Ml.Onnx;
using DrWeb.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;

namespace DrWeb.Tests.Ml.Architectures;

/// <summary>The TorchSharp rebuild of the bundled ResNet18 must compute what ONNX Runtime computes from the same file.</summary>
public class CntkResNet18Tests(Xunit.Abstractions.ITestOutputHelper log)
{
    private readonly bool _torch = Ensure();

    private static bool Ensure() { TorchSetup.Ensure(); return true; }

    private static float[] OnnxRuntimeFeatures(float[] input)
    {
        using var session = new InferenceSession(BundledOnnx.File(BundledOnnx.ResNet18FileName));
        string inputName = session.InputMetadata.Keys.Single();
        var tensor = new DenseTensor<float>(input, [1, 3, 224, 224]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, tensor)]);
        return results.Single().AsEnumerable<float>().ToArray();
    }

    [Theory]
    [InlineData("real image")]
    [InlineData("noise")]
    public void Pooled_features_match_onnx_runtime(string kind)
    {
        using var model = CntkResNet18.Pretrained();
        model.SetTrainingMode(false);
        float[] input;
        if (kind == "noise")
        {
            using var g = manual_seed(7);
            using var noise = rand(1, 3, 224, 224) * 255 - 120;
            input = noise.data<float>().ToArray();
        }
        else
        {
            // The graph's input is BGR, 0-255, minus a mean image; a centred real photograph exercises realistic values.
            using var image = new DrWeb.Ml.Imaging.ImageDecoder().Decode(SharedData.FundusDevImage());
            using var x = DrWeb.Ml.Imaging.ModelInput.ToTensor(image, DrWeb.Ml.Imaging.Preprocessing.ImageNet224) * 60f;
            input = x.data<float>().ToArray();
        }

        float[] expected = OnnxRuntimeFeatures(input);
        using var _ = no_grad();
        using var t = tensor(input, [1, 3, 224, 224]);
        using var features = model.PooledFeatures(t);
        float[] actual = features.data<float>().ToArray();

        Assert.Equal(512, actual.Length);
        log.WriteLine($"{kind}: max |TorchSharp - ONNX Runtime| = {F32.MaxAbsDiff(actual, expected):E2} (features up to {expected.Max():0.00})");
        Assert.True(F32.MaxAbsDiff(actual, expected) < 1e-4, $"max difference {F32.MaxAbsDiff(actual, expected)}");
        Assert.True(expected.Max() > 0.1f, "features are not trivially zero");
    }

    [Fact]
    public void Paper_policy_trains_layer4_and_the_head_only()
    {
        using var model = CntkResNet18.Pretrained();
        model.ApplyTrainablePolicy(model.PaperPolicy);
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        Assert.All(trainable, n => Assert.Matches(@"^(layer4\.|fc\.)", n));
        Assert.Contains("layer4.0.downsample.0.weight", trainable);
        Assert.Contains("fc.6.bias", trainable);
    }

    [Fact]
    public void Gradcam_works_at_layer4()
    {
        using var model = CntkResNet18.Pretrained();
        model.SetTrainingMode(false);
        using var x = randn(1, 3, 224, 224) * 50;
        var cam = new DrWeb.Ml.Explain.GradCam().Compute(model, x)[0];
        Assert.Equal((7, 7), (cam.Raw.Height, cam.Raw.Width));
        Assert.Equal(512, cam.ChannelWeights.Length);
    }
}
