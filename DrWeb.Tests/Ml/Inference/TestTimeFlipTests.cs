using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Inference;
using DrWeb.Tests.Support;
using static TorchSharp.torch;

namespace DrWeb.Tests.Ml.Inference;

public class TestTimeFlipTests
{
    private static string DefaultModel => ShippedModel.Folder;

    [Trait("Category", "Slow")]
    [Fact]
    public void A_flip_averaging_grader_averages_the_view_and_its_mirror_then_scales_and_explains_that_grade()
    {
        TorchSetup.Ensure();
        var (model, manifest) = ModelDirectory.Load(DefaultModel);
        var policy = ReferralPolicy.From(manifest);
        using var grader = new Grader(model, manifest.Preprocessing, referral: policy, flipAverage: true);
        using var image = new ImageDecoder().Decode(Path.Combine(SharedData.FundusRawImages, "17_left.jpeg"));
        using var view = ModelInput.Prepare(image.Pixels, manifest.Preprocessing);

        float[] plain, mirrored;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var x = ModelInput.ToTensor(view, manifest.Preprocessing).unsqueeze(0);
            plain = model.call(x).data<float>().ToArray();
            mirrored = model.call(x.flip(3)).data<float>().ToArray();
        }
        var a = GradeProbabilities.FromLogits(plain).Values;
        var b = GradeProbabilities.FromLogits(mirrored).Values;
        var mean = a.Zip(b, (p, q) => (p + q) / 2).ToArray();
        var expected = TemperatureScaling.Apply(mean, policy.Temperature);

        var result = grader.Grade(view, explain: true);
        for (int g = 0; g < 5; g++) Assert.Equal(expected[g], result.Probabilities[g], 4);
        Assert.Equal(result.Grade, result.Explanation!.TargetClass);
        Assert.Equal(policy.Decide(result.Probabilities).IsReferable, result.Referable.IsReferable);

        // The same photograph through a grader without flips gives the unflipped probabilities.
        var (single, _) = ModelDirectory.Load(DefaultModel);
        using var plainGrader = new Grader(single, manifest.Preprocessing, referral: policy);
        var alone = plainGrader.Grade(view, explain: false).Probabilities;
        var expectedAlone = policy.Probabilities(plain);
        for (int g = 0; g < 5; g++) Assert.Equal(expectedAlone[g], alone[g], 4);
    }
}
