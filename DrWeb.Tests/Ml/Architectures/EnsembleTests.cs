using DrWeb.Ml.Architectures;
using DrWeb.Ml.Explain;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Inference;
using DrWeb.Tests.Support;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DrWeb.Tests.Ml.Architectures;

public class EnsembleTests
{
    public EnsembleTests() => TorchSetup.Ensure();

    private static Tensor Photograph()
    {
        using var image = new ImageDecoder().Decode(SharedData.FundusDevImage());
        return ModelInput.ToTensor(image, EnsembleFolders.Preprocessing).unsqueeze(0);
    }

    private static CntkResNet18 Member(int seed)
    {
        var model = CntkResNet18.Pretrained();
        model.InitialiseHead(seed);
        model.SetTrainingMode(false);
        return model;
    }

    [Fact]
    public void Logits_are_the_log_of_the_members_mean_probabilities_and_the_map_is_the_average_of_their_maps()
    {
        using var scope = NewDisposeScope();
        var input = Photograph();
        using var ensemble = new EnsembleClassifier([Member(1), Member(2), Member(3)]);
        ensemble.SetTrainingMode(false);

        using (no_grad())
        {
            var mean = stack(ensemble.Members.Select(m => functional.softmax(m.call(input), 1)).ToArray()).mean([0]);
            var fromEnsemble = functional.softmax(ensemble.call(input), 1);
            Assert.True(fromEnsemble.allclose(mean, rtol: 1e-5, atol: 1e-6));
            var single = functional.softmax(ensemble.Members[0].call(input), 1);
            Assert.False(single.allclose(mean, rtol: 1e-3, atol: 1e-4), "members with different heads should not agree exactly");
        }

        var cam = new GradCam().Compute(ensemble, input)[0];
        float[] logits;
        using (no_grad()) logits = ensemble.call(input)[0].data<float>().ToArray();
        Assert.Equal(Array.IndexOf(logits, logits.Max()), cam.TargetClass);
        Assert.Equal(logits, cam.Logits, (a, b) => Math.Abs(a - b) < 1e-4);

        var members = ensemble.Members.Select(m => new GradCam().Compute(m, input, targetClasses: [cam.TargetClass])[0]).ToList();
        var expected = HeatMap.Average(members.Select(m => m.Map).ToList()).Normalised();
        Assert.Equal(expected.Values, cam.Map.Values, (a, b) => Math.Abs(a - b) < 1e-5);
        Assert.Equal(HeatMap.Average(members.Select(m => m.Raw).ToList()).Values, cam.Raw.Values, (a, b) => Math.Abs(a - b) < 1e-5);
        Assert.Equal(members.Sum(m => m.ChannelWeights.Length), cam.ChannelWeights.Length);
        Assert.NotEqual(members[0].Map.Values, cam.Map.Values);
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void A_joined_ensemble_is_one_folder_that_loads_back_and_grades_and_explains_through_the_grader()
    {
        using var tmp = SharedData.TempFolder();
        string folder = EnsembleFolders.Ensemble(tmp.Path, 11, 12);
        var stored = ModelDirectory.ReadManifest(folder);
        Assert.Equal(stored.AllWeightsFiles.Prepend("model.json").Order(), Directory.GetFiles(folder).Select(f => Path.GetFileName(f)).Order());

        var (model, manifest) = ModelDirectory.Load(folder);
        Assert.True(manifest.IsEnsemble);
        Assert.Equal([11, 12], manifest.EnsembleMembers.Select(m => m.Seed));
        var ensemble = Assert.IsType<EnsembleClassifier>(model);
        Assert.Equal(2, ensemble.Members.Count);

        // The loaded ensemble is its members, loaded one by one.
        using var scope = NewDisposeScope();
        var input = Photograph();
        var (m11, _) = ModelDirectory.Load(Path.Combine(tmp.Path, "member-11"));
        var (m12, _) = ModelDirectory.Load(Path.Combine(tmp.Path, "member-12"));
        using (m11) using (m12) using (no_grad())
        {
            var mean = (functional.softmax(m11.call(input), 1) + functional.softmax(m12.call(input), 1)) / 2;
            Assert.True(functional.softmax(ensemble.call(input), 1).allclose(mean, rtol: 1e-4, atol: 1e-5));
        }

        using var grader = new Grader(model, manifest.Preprocessing, flipAverage: true);
        using var image = new ImageDecoder().Decode(SharedData.FundusDevImage());
        var result = grader.Grade(image);
        Assert.Equal(1f, result.Probabilities.Values.Sum(), 3);
        Assert.NotNull(result.Explanation);
        Assert.Equal(result.Grade, result.Explanation!.TargetClass);
        Assert.Equal(224, result.Explanation.Map.Width);
        var (_, explanations) = grader.Explain(image, [0, 4]);
        Assert.Equal([0, 4], explanations.Select(e => e.TargetClass));
    }

    [Fact]
    public void Members_validated_on_other_images_or_a_single_member_are_refused_with_the_fix()
    {
        using var tmp = SharedData.TempFolder();
        string a = EnsembleFolders.Member(tmp.Path, 1);
        string b = EnsembleFolders.Member(tmp.Path, 2, validationIds: ["a", "b", "x"]);
        var e = Assert.Throws<ArgumentException>(() => EnsembleJoin.Join([a, b]));
        Assert.Contains("--split-seed", e.Message);
        Assert.Contains("at least two", Assert.Throws<ArgumentException>(() => EnsembleJoin.Join([a])).Message);
    }
}
