using DrWeb.Ml.Onnx;
using DrWeb.Ml.Imaging;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Processing;
using static TorchSharp.torch;

namespace DrWeb.Tests.Ml;

public class ModelInputTests
{
    public ModelInputTests() => TorchSetup.Ensure();

    [Fact]
    public void Resizes_and_normalises_with_imagenet_statistics()
    {
        using var image = new ImageDecoder().Decode(SharedData.FundusDevImage());
        using var scope = NewDisposeScope();
        var x = ModelInput.ToTensor(image, Preprocessing.ImageNet224);
        Assert.Equal([3L, 224, 224], x.shape);

        // The corner is black background: (0 - mean) / std in each channel.
        var prep = Preprocessing.ImageNet224;
        for (int c = 0; c < 3; c++)
            Assert.Equal(-prep.Mean[c] / prep.Std[c], x[c, 0, 0].item<float>(), 2);
        // The centre is lit fundus, well above the background in the red channel.
        Assert.True(x[0, 112, 112].item<float>() > 0f);
    }

    [Fact]
    public void Batches_images()
    {
        var decoder = new ImageDecoder();
        using var a = decoder.Decode(SharedData.FundusDevImage("10007_left.jpeg"));
        using var b = decoder.Decode(SharedData.FundusDevImage("10007_right.jpeg"));
        using var batch = ModelInput.Batch([a, b], Preprocessing.ImageNet224);
        Assert.Equal([2L, 3, 224, 224], batch.shape);
        Assert.NotEqual(batch[0].sum().item<float>(), batch[1].sum().item<float>());
    }
}

public class BgrMeanImageInputTests
{
    public BgrMeanImageInputTests() => TorchSetup.Ensure();

    [Fact]
    public void Matches_what_the_bundled_preprocessing_graph_computes()
    {
        using var image = new ImageDecoder().Decode(SharedData.FundusDevImage());
        using var scope = NewDisposeScope();
        var ours = ModelInput.ToTensor(image, Preprocessing.BgrMeanImage224);

        // ResNetPreprocess.onnx takes RGB 0-255 and outputs BGR minus its mean image; run it in ONNX Runtime.
        using var resized = image.Pixels.Clone(x => x.Resize(new ResizeOptions
        {
            Size = new SixLabors.ImageSharp.Size(224, 224), Mode = ResizeMode.Stretch, Sampler = KnownResamplers.Triangle,
        }));
        var rgb = new float[3 * 224 * 224];
        for (int y = 0; y < 224; y++)
            for (int x = 0; x < 224; x++)
            {
                var p = resized[x, y];
                rgb[y * 224 + x] = p.R; rgb[224 * 224 + y * 224 + x] = p.G; rgb[2 * 224 * 224 + y * 224 + x] = p.B;
            }
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(DrWeb.Ml.Onnx.BundledOnnx.File("ResNetPreprocess.onnx"));
        using var results = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(),
            new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(rgb, [1, 3, 224, 224]))]);
        float[] expected = results.Single().AsEnumerable<float>().ToArray();

        Assert.True(F32.MaxAbsDiff(ours.data<float>().ToArray(), expected) < 1e-3f);
    }
}
