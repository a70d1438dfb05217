using DrWeb.Ml.Data;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Tests.Ml.Data;

public class SplitAndSamplerTests
{
    private static readonly Lazy<Dataset> FundusDev = new(() =>
        DatasetReader.Read(Path.GetDirectoryName(SharedData.FundusDevImages)!, new DatasetReadOptions { CheckImagesReadable = false }));

    [Fact]
    public void Split_keeps_both_eyes_of_a_patient_together_and_is_stratified()
    {
        var images = FundusDev.Value.Images;
        var split = PatientSplit.Split(images, 0.2, seed: 1);
        var trainPatients = split.Train.Select(i => i.PatientId).ToHashSet();
        Assert.DoesNotContain(split.Validation, i => trainPatients.Contains(i.PatientId));
        Assert.Equal(images.Count, split.Train.Count + split.Validation.Count);
        Assert.Contains(images, i => i.PatientId == "10007" && images.Count(j => j.PatientId == "10007") == 2);

        double share = (double)split.Validation.Count / images.Count;
        Assert.InRange(share, 0.17, 0.23);
        for (int g = 0; g < 5; g++)
        {
            double all = images.Count(i => i.Grade == g) / (double)images.Count;
            double val = split.Validation.Count(i => i.Grade == g) / (double)split.Validation.Count;
            Assert.True(Math.Abs(all - val) < 0.04, $"grade {g}: {all:0.000} overall, {val:0.000} in validation");
        }
        Assert.Equal(split.Validation.Select(i => i.Id), PatientSplit.Split(images, 0.2, seed: 1).Validation.Select(i => i.Id));
        Assert.NotEqual(split.Validation.Select(i => i.Id), PatientSplit.Split(images, 0.2, seed: 2).Validation.Select(i => i.Id));
    }

    [Fact]
    public void Weighted_sampler_draws_grades_in_proportion_to_count_times_weight()
    {
        // The paper's counts and weights: the expected share of grade g is count_g * w_g / sum.
        int[] counts = [25810, 2443, 5292, 873, 708];
        var grades = counts.SelectMany((c, g) => Enumerable.Repeat(g, c)).ToArray();
        var drawn = EpochSampler.Indices(grades, SamplerKind.Weighted, EpochSampler.PaperWeights, seed: 3, epoch: 0);
        double total = counts.Select((c, g) => c * EpochSampler.PaperWeights[g]).Sum();
        for (int g = 0; g < 5; g++)
        {
            double expected = counts[g] * EpochSampler.PaperWeights[g] / total;
            double actual = drawn.Count(i => grades[i] == g) / (double)drawn.Length;
            Assert.True(Math.Abs(expected - actual) < 0.01, $"grade {g}: expected {expected:0.000}, drew {actual:0.000}");
        }
        Assert.True(drawn.Distinct().Count() < drawn.Length, "draws are with replacement");
    }

    [Fact]
    public void Auto_sampler_balances_grades_and_shuffle_visits_each_once()
    {
        var grades = FundusDev.Value.Images.Select(i => i.Grade).ToArray();
        var auto = EpochSampler.Indices(grades, SamplerKind.InverseFrequency, null, seed: 5, epoch: 1);
        for (int g = 0; g < 5; g++)
            Assert.InRange(auto.Count(i => grades[i] == g) / (double)auto.Length, 0.16, 0.24);

        var shuffle = EpochSampler.Indices(grades, SamplerKind.Shuffle, null, seed: 5, epoch: 1);
        Assert.Equal(Enumerable.Range(0, grades.Length), shuffle.Order());
        Assert.Equal(shuffle, EpochSampler.Indices(grades, SamplerKind.Shuffle, null, seed: 5, epoch: 1));
        Assert.NotEqual(shuffle, EpochSampler.Indices(grades, SamplerKind.Shuffle, null, seed: 5, epoch: 2));
    }
}
