using DrWeb.Ml.Imaging;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp.Processing;
using static TorchSharp.torch;

namespace DrWeb.Tests.Ml.Imaging;

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
