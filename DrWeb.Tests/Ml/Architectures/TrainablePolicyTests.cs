using DrWeb.Ml.Architectures;
using DrWeb.Tests.Support;
using static TorchSharp.torch;

namespace DrWeb.Tests.Ml.Architectures;

public class TrainablePolicyTests
{
    public TrainablePolicyTests() => TorchSetup.Ensure();

    [Fact]
    public void Paper_policy_trains_only_the_last_three_dense_layers_and_the_head()
    {
        using var model = new DenseNet121();
        model.ApplyTrainablePolicy(TrainablePolicy.DenseNetPaper);
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();

        Assert.All(trainable, n => Assert.Matches(@"^(features\.denseblock4\.denselayer1[456]\.|classifier\.)", n));
        Assert.Equal(3 * 6 + 14, trainable.Count); // 3 layers x (norm1 w,b + conv1 + norm2 w,b + conv2) + 7 Linear x 2
        Assert.False(model.named_parameters().First(p => p.name == "features.denseblock4.denselayer13.conv2.weight").parameter.requires_grad);
    }

    [Fact]
    public void Frozen_batchnorm_keeps_its_running_statistics_in_training_mode()
    {
        using var model = new DenseNet121();
        model.ApplyTrainablePolicy(TrainablePolicy.DenseNetPaper);
        model.SetTrainingMode(true);
        var frozenMean = model.state_dict()["features.norm0.running_mean"].clone();
        var trainedMean = model.state_dict()["features.denseblock4.denselayer16.norm1.running_mean"].clone();

        using (var x = randn(2, 3, 224, 224))
        using (var y = model.call(x))
            y.sum().backward();

        Assert.True(model.state_dict()["features.norm0.running_mean"].eq(frozenMean).all().item<bool>());
        Assert.False(model.state_dict()["features.denseblock4.denselayer16.norm1.running_mean"].eq(trainedMean).all().item<bool>());
        Assert.Null(model.named_parameters().First(p => p.name == "features.conv0.weight").parameter.grad);
        Assert.NotNull(model.named_parameters().First(p => p.name == "classifier.6.weight").parameter.grad);
    }

    [Fact]
    public void A_policy_naming_a_layer_the_model_lacks_is_refused()
    {
        using var model = new DenseNet121();
        var typo = TrainablePolicy.Parse("features.denseblock4.denselayer17,classifier", model);
        var e = Assert.Throws<ArgumentException>(() => model.ApplyTrainablePolicy(typo));
        Assert.Contains("denselayer17", e.Message);
    }
}
