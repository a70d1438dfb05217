using DrWeb.Ml.Explain;
using DrWeb.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DrWeb.Tests.Ml.Explain;

/// <summary>
/// Every CAM method against pytorch-grad-cam's definitions as computed in PyTorch (../shared/reference/cams, see its
/// README for the formulas and tolerances). Formula tests feed the stored activations and gradients in; end-to-end
/// tests let DrWeb's DenseNet121 compute them.
/// </summary>
public class CamParityTests(ReferenceModelFixture fixture, ITestOutputHelper log) : IClassFixture<ReferenceModelFixture>
{
    private const int TopClass = 3;

    private static string CamsDir => Path.Combine(Path.GetDirectoryName(SharedData.ReferenceDir)!, "cams");

    private static float[] Cam(string input, string layer, string method, string kind) =>
        F32.Read(Path.Combine(CamsDir, $"{input}_{layer}_{method}_{kind}.f32"));

    private static Tensor Stored(string input, string layer, string kind)
    {
        float[] values = ReferenceModelFixture.Reference($"{input}_{layer}_{kind}.f32");
        return tensor(values, [1, values.Length / 49, 7, 7]);
    }

    private static string LayerName(string tag) => tag == "block4" ? "features.denseblock4" : "features.denseblock4.denselayer16";

    /// <summary>max |a − b| / max |b|.</summary>
    private static double Relative(float[] actual, float[] expected) =>
        F32.MaxAbsDiff(actual, expected) / Math.Max(expected.Max(Math.Abs), 1e-30f);

    private static double Tolerance(string input, string layer, string method) =>
        method == "xgradcam" && input == "wave" && layer == "block4" ? 1e-4 : 1e-5;

    public static TheoryData<string, string, string> GradientMethods()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var input in new[] { "lin", "wave" })
            foreach (var layer in new[] { "block4", "dl16" })
                foreach (var method in new[] { "gradcam", "hirescam", "gradcampp", "xgradcam", "layercam" })
                    data.Add(input, layer, method);
        return data;
    }

    [Theory]
    [MemberData(nameof(GradientMethods))]
    public void A_method_combines_the_stored_activations_and_gradients_as_pytorch_grad_cam_does(string input, string layer, string method)
    {
        using var scope = NewDisposeScope();
        var cam = CamMethods.Parse(method);
        var (preRelu, weights) = cam.Apply(new CamContext { Activations = Stored(input, layer, "A"), Gradients = Stored(input, layer, "G") });
        var (raw, map) = CamMethod.ToMaps(preRelu, 224, 224);

        double pre = Relative(preRelu.data<float>().ToArray(), Cam(input, layer, method, "cam7pre"));
        double up = F32.MaxAbsDiff(map.data<float>().ToArray(), method == "gradcam"
            ? ReferenceModelFixture.Reference($"{input}_{layer}_cam224.f32") : Cam(input, layer, method, "cam224"));
        log.WriteLine($"{input}/{layer}/{method}: cam7pre rel {pre:E2}, cam224 abs {up:E2}");
        double tolerance = Tolerance(input, layer, method);
        Assert.True(pre < tolerance, $"cam7pre differs by {pre:E2} (relative)");
        Assert.True(F32.MaxAbsDiff(raw.data<float>().ToArray(), Cam(input, layer, method, "cam7")) <= Cam(input, layer, method, "cam7").Max() * tolerance);
        Assert.True(up < 1e-5, $"cam224 differs by {up:E2}");
        if (File.Exists(Path.Combine(CamsDir, $"{input}_{layer}_{method}_weights.f32")))
        {
            double w = Relative(weights!.data<float>().ToArray(), Cam(input, layer, method, "weights"));
            Assert.True(w < tolerance, $"channel weights differ by {w:E2} (relative)");
        }
        else
        {
            Assert.Null(weights);
        }
    }

    [Theory]
    [InlineData("lin", "block4")]
    [InlineData("lin", "dl16")]
    [InlineData("wave", "block4")]
    [InlineData("wave", "dl16")]
    public void EigenCam_projects_on_the_first_principal_component_up_to_its_arbitrary_sign(string input, string layer)
    {
        using var scope = NewDisposeScope();
        var (preRelu, weights) = new EigenCam().Apply(new CamContext { Activations = Stored(input, layer, "A") });
        float[] pc1 = Cam(input, layer, "eigencam", "pc1");
        float[] v = weights!.data<float>().ToArray();
        float sign = v.Zip(pc1, (a, b) => a * b).Sum() < 0 ? -1 : 1;
        float[] aligned = preRelu.data<float>().Select(p => p * sign).ToArray();

        double rel = Relative(aligned, Cam(input, layer, "eigencam", "cam7pre"));
        double vRel = Relative(v.Select(x => x * sign).ToArray(), pc1);
        var (_, map) = CamMethod.ToMaps(tensor(aligned, [1, 7, 7]), 224, 224);
        double up = F32.MaxAbsDiff(map.data<float>().ToArray(), Cam(input, layer, "eigencam", "cam224"));
        log.WriteLine($"{input}/{layer}: eigencam cam7pre rel {rel:E2}, v rel {vRel:E2}, cam224 abs {up:E2}, sign {(sign < 0 ? "flipped" : "as numpy")}");
        Assert.True(rel < 1e-5, $"projection differs by {rel:E2}");
        Assert.True(vRel < 1e-4, $"first component differs by {vRel:E2}");
        Assert.True(up < 1e-5, $"cam224 differs by {up:E2}");
        // DrWeb's own sign rule: the projection's largest magnitude is positive.
        float[] ours = preRelu.data<float>().ToArray();
        Assert.True(ours.Max() >= -ours.Min());
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void ScoreCam_weights_each_channel_by_the_softmax_of_the_score_its_mask_keeps_dl16() => ScoreCamMatches("lin", "dl16");

    [Trait("Category", "Slow")]
    [Theory]
    [InlineData("lin", "block4")]
    [InlineData("wave", "dl16")]
    public void ScoreCam_matches_pytorch_on_more_layers(string input, string layer) => ScoreCamMatches(input, layer);

    private void ScoreCamMatches(string input, string layer)
    {
        using var scope = NewDisposeScope();
        using var x = ReferenceModelFixture.Input(input);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (preRelu, weights) = new ScoreCam().Apply(new CamContext
        {
            Activations = Stored(input, layer, "A"), Input = x,
            TargetScore = (batch, _) => fixture.Model.call(batch).select(1, TopClass),
        });
        double w = Relative(weights!.data<float>().ToArray(), Cam(input, layer, "scorecam", "weights"));
        double pre = Relative(preRelu.data<float>().ToArray(), Cam(input, layer, "scorecam", "cam7pre"));
        log.WriteLine($"{input}/{layer}: scorecam weights rel {w:E2}, cam7pre rel {pre:E2}, {preRelu.shape[0]} image, {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(w < 1e-5, $"weights differ by {w:E2}");
        Assert.True(pre < 1e-4, $"cam7pre differs by {pre:E2}");
    }

    public static TheoryData<string, string> EndToEnd()
    {
        var data = new TheoryData<string, string>();
        foreach (var layer in new[] { "block4", "dl16" })
            foreach (var method in new[] { "gradcam", "hirescam", "gradcampp", "xgradcam", "layercam", "eigencam" })
                data.Add(layer, method);
        return data;
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void ScoreCam_run_on_the_model_matches_pytorch_end_to_end() => A_method_run_on_the_model_matches_pytorch_end_to_end("dl16", "scorecam");

    [Theory]
    [MemberData(nameof(EndToEnd))]
    public void A_method_run_on_the_model_matches_pytorch_end_to_end(string layer, string method)
    {
        using var x = ReferenceModelFixture.Input("lin");
        var cam = CamMethods.Parse(method).Compute(fixture.Model, x, LayerName(layer), [TopClass])[0];
        Assert.Equal(method, cam.Method);
        Assert.Equal(TopClass, cam.TargetClass);
        float[] expected = method == "gradcam"
            ? ReferenceModelFixture.Reference($"lin_{layer}_cam224.f32") : Cam("lin", layer, method, "cam224");
        if (method == "eigencam" && cam.ChannelWeights.Zip(Cam("lin", layer, "eigencam", "pc1"), (a, b) => a * b).Sum() < 0)
        {
            // DrWeb turned the component the other way; compare with the reference map of the same sign.
            var (_, flipped) = CamMethod.ToMaps(tensor(Cam("lin", layer, "eigencam", "cam7pre").Select(v => -v).ToArray(), [1, 7, 7]), 224, 224);
            expected = flipped.data<float>().ToArray();
        }
        double diff = F32.MaxAbsDiff(cam.Map.Values, expected);
        log.WriteLine($"lin/{layer}/{method} end to end: cam224 abs {diff:E2}");
        Assert.True(diff < 1e-4, $"cam224 differs by {diff:E2}");
    }

    [Fact]
    public void Every_method_has_one_name_and_unknown_names_list_them()
    {
        Assert.Equal(["gradcam", "hirescam", "gradcampp", "xgradcam", "layercam", "eigencam", "scorecam"], CamMethods.Names);
        Assert.All(CamMethods.Names, n => Assert.Equal(n, CamMethods.Parse(n).Name));
        Assert.Equal("gradcampp", CamMethods.Parse("Grad-CAM++").Name);
        var unknown = Assert.Throws<ArgumentException>(() => CamMethods.Parse("fullgrad"));
        Assert.Contains("gradcam, hirescam, gradcampp, xgradcam, layercam, eigencam, scorecam", unknown.Message);
    }

    [Fact]
    public void The_referable_target_explains_the_sum_of_grades_two_to_four()
    {
        using var x = ReferenceModelFixture.Input("lin");
        var referable = new GradCam().Compute(fixture.Model, x, null, CamTarget.Referable)[0];
        Assert.True(referable.ExplainsReferable);
        // Grad-CAM is linear in the gradient: P(referable)'s map is the probability-weighted combination of the
        // grades' maps, so it must differ from the top grade's alone and still be a normalised map.
        var top = new GradCam().Compute(fixture.Model, x, null, CamTarget.ForGrade(TopClass))[0];
        Assert.Equal(TopClass, top.TargetClass);
        Assert.True(F32.MaxAbsDiff(referable.Map.Values, top.Map.Values) > 1e-3);
        Assert.InRange(referable.Map.Values.Max(), 0.999f, 1f);
        Assert.Equal(CamTarget.Referable, CamTarget.Parse("referable"));
        Assert.Equal(2, CamTarget.Parse("2").Grade);
        Assert.Throws<ArgumentException>(() => CamTarget.Parse("5"));
    }
}
