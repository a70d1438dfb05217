using DrWeb.Ml.Architectures;
using DrWeb.Ml.Manifest;
using DrWeb.Tests.Support;
using static TorchSharp.torch;

namespace DrWeb.Tests.Ml.Architectures;

public class DenseNet121Tests
{
    public DenseNet121Tests() => TorchSetup.Ensure();

    [Fact]
    public void State_dict_has_torchvision_names_and_shapes()
    {
        using var model = new DenseNet121(HeadKind.Linear, numClasses: 1000);
        var state = model.state_dict();
        Assert.Equal(727, state.Count);
        Assert.Equal("features.conv0.weight", state.Keys.First());
        Assert.Equal([64L, 3, 7, 7], state["features.conv0.weight"].shape);
        Assert.Equal([128L, 992, 1, 1], state["features.denseblock4.denselayer16.conv1.weight"].shape);
        Assert.Equal([32L, 128, 3, 3], state["features.denseblock4.denselayer16.conv2.weight"].shape);
        Assert.Equal([1024L], state["features.norm5.running_var"].shape);
        Assert.Equal([1000L, 1024], state["classifier.weight"].shape);
        Assert.Contains("features.transition3.conv.weight", state.Keys);
        Assert.Contains("features.norm0.num_batches_tracked", state.Keys);
    }

    [Fact]
    public void Paper_head_is_seven_linear_layers_named_like_nn_Sequential()
    {
        using var model = new DenseNet121(HeadKind.Paper);
        var head = model.state_dict().Where(kv => kv.Key.StartsWith("classifier.")).ToDictionary();
        Assert.Equal(14, head.Count);
        int[] widths = [1024, 512, 256, 128, 64, 32, 16, 5];
        for (int i = 0; i < 7; i++)
            Assert.Equal([(long)widths[i + 1], widths[i]], head[$"classifier.{i}.weight"].shape);
        using var x = randn(2, 3, 224, 224);
        model.eval();
        using var _ = no_grad();
        using var y = model.call(x);
        Assert.Equal([2L, 5], y.shape);
    }
}
