using DrWeb.Ml.Imaging;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp.Processing;
using static TorchSharp.torch;

namespace DrWeb.Tests.Ml.Imaging;

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
