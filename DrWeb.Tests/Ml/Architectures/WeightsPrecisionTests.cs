using DrWeb.Ml.Architectures;
using DrWeb.Tests.Support;
using static TorchSharp.torch;

namespace DrWeb.Tests.Ml.Architectures;

public class WeightsPrecisionTests
{
    /// <summary>The shipped model, stored in int8 and fp16 again and loaded back, grades like the stored one.</summary>
    [Trait("Category", "Slow")]
    [Theory]
    [InlineData(false, "fp16", 0.51)]
    [InlineData(true, "int8", 0.3)]
    public void Trained_layers_stored_smaller_load_back_as_fp32_and_predict_alike(bool int8, string precision, double maxShareOfFp32)
    {
        TorchSetup.Ensure();
        string shipped = ShippedModel.Folder;
        var (model, manifest) = ModelDirectory.Load(shipped);
        using var tmp = SharedData.TempFolder();
        ModelDirectory.Save(tmp.File("fp32"), model, manifest, trainedOnly: true);
        ModelDirectory.Save(tmp.File("small"), model, manifest, trainedOnly: true, halfPrecision: true, int8Weights: int8);
        var (reloaded, reloadedManifest) = ModelDirectory.Load(tmp.File("small"));
        Assert.Equal(precision, reloadedManifest.WeightsPrecision);
        Assert.All(reloaded.state_dict().Values.Where(t => t.is_floating_point()), t => Assert.Equal(ScalarType.Float32, t.dtype));
        long Size(string folder) => Directory.GetFiles(tmp.File(folder), "*.safetensors").Sum(f => new FileInfo(f).Length);
        long full = Size("fp32"), small = Size("small");
        // Large models are stored in parts, none much over the bound (a part holds at least one tensor).
        Assert.True(Directory.GetFiles(tmp.File("fp32"), "*.safetensors").Length > 1);
        Assert.All(Directory.GetFiles(tmp.File("fp32"), "*.safetensors"), f => Assert.True(new FileInfo(f).Length < ModelDirectory.MaxWeightsFileBytes + (1 << 20), f));
        Assert.True(small < full * maxShareOfFp32, $"{precision}: {small} bytes against {full} in fp32");

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        manual_seed(5);
        var x = randn(4, 3, 224, 224);
        var expected = nn.functional.softmax(model.call(x), 1);
        var actual = nn.functional.softmax(reloaded.call(x), 1);
        double gap = (expected - actual).abs().max().item<float>();
        Assert.True(gap < 0.05, $"{precision}: probabilities moved by {gap}");
        Assert.Equal(expected.argmax(1).data<long>().ToArray(), actual.argmax(1).data<long>().ToArray());
    }
}
