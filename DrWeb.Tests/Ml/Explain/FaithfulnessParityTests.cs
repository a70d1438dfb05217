using System.Text.Json;
using DrWeb.Ml.Explain;
using DrWeb.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DrWeb.Tests.Ml.Explain;

/// <summary>
/// Deletion, insertion and ROAD against the reference computed in PyTorch (../shared/reference/faithfulness, whose
/// README gives the protocol). The saliency is the stored Grad-CAM map, not a recomputed one: its order has ties
/// at step boundaries, and a map 1e-6 away could reorder them.
/// </summary>
public class FaithfulnessParityTests(ReferenceModelFixture fixture, ITestOutputHelper log) : IClassFixture<ReferenceModelFixture>
{
    private const int TopClass = 3;

    private static string Dir => Path.Combine(Path.GetDirectoryName(SharedData.ReferenceDir)!, "faithfulness");

    private static JsonElement Reference() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "faithfulness.json"))).RootElement;

    private static HeatMap Saliency() => new(224, 224, ReferenceModelFixture.Reference("wave_block4_cam224.f32"));

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    [Fact]
    public void The_pixel_order_breaks_ties_by_ascending_index()
    {
        int[] order = PerturbationCurves.SaliencyOrder(Saliency().Values);
        Assert.Equal(Reference().GetProperty("order_first10").EnumerateArray().Select(v => v.GetInt32()), order.Take(10));
        Assert.Equal([0, 2, 1], PerturbationCurves.SaliencyOrder([0.5f, 0.2f, 0.5f]));
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void Deletion_and_insertion_curves_match_pytorch()
    {
        var reference = Reference();
        using var x = ReferenceModelFixture.Input("wave");
        var curve = PerturbationCurves.Measure(fixture.Model, x, Saliency(), CamTarget.Predicted, TopClass);
        double[] deletion = Doubles(reference.GetProperty("deletion").GetProperty("prob_top_class"));
        double[] insertion = Doubles(reference.GetProperty("insertion").GetProperty("prob_top_class"));
        double dMax = deletion.Zip(curve.Deletion, (a, b) => Math.Abs(a - b)).Max();
        double iMax = insertion.Zip(curve.Insertion, (a, b) => Math.Abs(a - b)).Max();
        double dAuc = reference.GetProperty("deletion").GetProperty("auc_trapezoid").GetDouble();
        double iAuc = reference.GetProperty("insertion").GetProperty("auc_trapezoid").GetDouble();
        log.WriteLine($"deletion max |Δp| {dMax:E2}, AUC {curve.DeletionAuc:0.0000000} vs {dAuc:0.0000000}; insertion max |Δp| {iMax:E2}, AUC {curve.InsertionAuc:0.0000000} vs {iAuc:0.0000000}");
        Assert.Equal(17, curve.Deletion.Length);
        Assert.Equal(Doubles(reference.GetProperty("deletion").GetProperty("fraction")), curve.Fractions);
        Assert.True(dMax < 1e-6, $"deletion differs by {dMax:E2}");
        Assert.True(iMax < 1e-6, $"insertion differs by {iMax:E2}");
        Assert.True(Math.Abs(curve.DeletionAuc - dAuc) < 1e-6);
        Assert.True(Math.Abs(curve.InsertionAuc - iAuc) < 1e-6);
        // Deletion's last image and insertion's first are the same all-zero image.
        Assert.Equal(curve.Deletion[^1], curve.Insertion[0], 6);
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void Road_most_relevant_first_matches_pytorch_without_noise()
    {
        var reference = Reference().GetProperty("road_morf");
        using var x = ReferenceModelFixture.Input("wave");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var road = Road.MostRelevantFirst(fixture.Model, x, Saliency(), CamTarget.Predicted, TopClass);
        Assert.Equal([20, 40, 60, 80], road.Steps.Select(s => s.Percentile));
        foreach (var step in road.Steps)
        {
            var expected = reference.GetProperty("percentiles").GetProperty(step.Percentile.ToString(System.Globalization.CultureInfo.InvariantCulture));
            double score = expected.GetProperty("noise0").GetProperty("road_score_logit_diff").GetDouble();
            log.WriteLine($"p{step.Percentile}: t {step.Threshold} removed {step.Removed}; score {step.Score:E6} vs {score:E6}");
            Assert.Equal((float)expected.GetProperty("threshold_float32").GetDouble(), step.Threshold);
            Assert.Equal(expected.GetProperty("n_removed").GetInt32(), step.Removed);
            Assert.True(Math.Abs(step.Score - score) < 1e-6, $"p{step.Percentile}: ROAD score {step.Score} vs {score}");
        }
        Assert.True(Math.Abs(road.Mean - reference.GetProperty("mean_over_percentiles_noise0").GetDouble()) < 1e-6);
        log.WriteLine($"ROAD, four percentiles: {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public void Road_imputes_the_removed_pixels_as_pytorch_does()
    {
        var expected = Reference().GetProperty("road_morf").GetProperty("percentiles").GetProperty("60").GetProperty("noise0");
        float[] image = ReferenceModelFixture.Reference("wave_input.f32");
        var s = Saliency().Values;
        float t = Road.Percentile(s, 60);
        var removed = s.Select(v => v >= t).ToArray();
        float[] imputed = Road.Impute(image, 3, 224, 224, removed);
        double sum = 0;
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < removed.Length; i++)
                if (removed[i]) sum += imputed[c * removed.Length + i];
        log.WriteLine($"imputed values sum {sum:0.0000} vs {expected.GetProperty("imputed_values_sum").GetDouble():0.0000}");
        Assert.True(Math.Abs(sum - expected.GetProperty("imputed_values_sum").GetDouble()) < 1e-2);
        // Kept pixels are untouched.
        for (int i = 0; i < removed.Length; i++)
            if (!removed[i]) Assert.Equal(image[i], imputed[i]);
    }

    [Fact]
    public void Road_fills_a_hole_in_a_smooth_ramp_with_the_ramp()
    {
        // A linear ramp is harmonic, so the 8-neighbour mean reproduces it exactly inside a hole.
        const int size = 12;
        var image = new float[size * size];
        for (int y = 0; y < size; y++) for (int x = 0; x < size; x++) image[y * size + x] = 0.5f * x + 0.25f * y;
        var removed = new bool[size * size];
        for (int y = 4; y < 8; y++) for (int x = 3; x < 9; x++) removed[y * size + x] = true;
        float[] imputed = Road.Impute(image, 1, size, size, removed);
        for (int i = 0; i < image.Length; i++) Assert.Equal(image[i], imputed[i], 4);
    }
}
