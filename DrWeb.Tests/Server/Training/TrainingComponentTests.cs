using Bunit;
using DrWeb.Ml.Data;
using DrWeb.Ml.Training;
using DrWeb.Server.Platform.Database;
using DrWeb.Server.Training;
using MudBlazor.Services;

namespace DrWeb.Tests.Server.Training;

public sealed class TrainingComponentTests : IAsyncLifetime
{
    private readonly BunitContext _context = new();

    public TrainingComponentTests()
    {
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        _context.Services.AddMudServices();
    }

    [Fact]
    public void The_new_run_form_starts_at_the_default_preset_and_switches_to_the_study_settings()
    {
        var extra = Guid.NewGuid();
        var form = new RunForm { DatasetId = Guid.NewGuid(), AdditionalDatasetIds = [extra] };
        var (settings, problems) = form.ToSettings();
        Assert.Empty(problems);
        Assert.Equal(TrainingPreset.Default.Name, form.Preset);
        var d = TrainingPreset.Default.Options;
        var o = settings!.Options;
        Assert.Equal((d.LearningRate, d.Beta1, d.Beta2, d.WeightDecay, d.DecoupledWeightDecay), (o.LearningRate, o.Beta1, o.Beta2, o.WeightDecay, o.DecoupledWeightDecay));
        Assert.Equal((d.Sampler, d.EpochSize, d.WarmupSteps, d.LabelSmoothing, d.Schedule, d.Trainable), (o.Sampler, o.EpochSize, o.WarmupSteps, o.LabelSmoothing, o.Schedule, o.Trainable));
        Assert.True(settings.CropFundus);
        Assert.Equal([extra], settings.AdditionalDatasetIds);

        form.ApplyPreset(TrainingPreset.Paper);
        (settings, problems) = form.ToSettings();
        Assert.Empty(problems);
        o = settings!.Options;
        Assert.Equal((1e-4, 0.0, 0.99, 1e-8), (o.LearningRate, o.Beta1, o.Beta2, o.Epsilon));
        Assert.Equal(SamplerKind.Weighted, o.Sampler);
        Assert.Equal(EpochSampler.PaperWeights, o.SamplerWeights);
        Assert.True(o.Augmentation.Enabled);
        Assert.Equal(0.2, o.ValidationFraction);
        Assert.Equal("paper", o.Trainable);
        Assert.Equal(0, o.EpochSize);
        Assert.False(settings.CropFundus);
    }

    [Fact]
    public void The_new_run_form_names_every_bad_field()
    {
        var form = new RunForm { DatasetId = null, SamplerWeights = "1, 2, x", FlipProbability = 2, RotationDegrees = -5 };
        var (settings, problems) = form.ToSettings();
        Assert.Null(settings);
        Assert.Contains(problems, p => p.StartsWith("Sampler weights"));
        Assert.Contains("Choose a dataset.", problems);
        Assert.Contains(problems, p => p.Contains("flip probability"));
        Assert.Contains(problems, p => p.StartsWith("Rotation"));

        var off = new RunForm { DatasetId = Guid.NewGuid(), Augment = false, Architecture = "resnet18", BaseCheckpointId = Guid.NewGuid() }.ToSettings().Settings!;
        Assert.False(off.Options.Augmentation.Enabled);
        Assert.Null(off.BaseCheckpointId);
    }

    [Fact]
    public void A_long_loss_curve_is_averaged_into_buckets_and_gaps_do_not_count_as_zero()
    {
        var values = Enumerable.Range(1, 1000).Select(i => (double?)i).ToList();
        var chart = _context.Render<LineChart>(p => p
            .Add(c => c.Series, new[] { new CurveSeries("loss", values), new CurveSeries("val", [1.0, null, 3.0]) })
            .Add(c => c.MaxPoints, 100));
        var series = chart.Instance.GetType().GetField("_series", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
            .GetValue(chart.Instance) as List<MudBlazor.ChartSeries<double>>;
        Assert.Equal(100, series![0].Data.Count);
        Assert.Equal(5.5, series[0].Data.GetValue(0));
        Assert.Equal(995.5, series[0].Data.GetValue(99));
        Assert.Equal(1, series[1].Data.Count);
        Assert.Equal(2.0, series[1].Data.GetValue(0)); // the gap is left out of the average, not counted as zero
    }

    [Fact]
    public void Status_chips_colour_failures_and_successes_differently()
    {
        var failed = _context.Render<RunStatusChip>(p => p.Add(c => c.Status, TrainingRunStatus.Failed));
        var done = _context.Render<RunStatusChip>(p => p.Add(c => c.Status, TrainingRunStatus.Succeeded));
        Assert.Contains("Failed", failed.Markup);
        Assert.Contains("mud-chip-color-error", failed.Markup);
        Assert.Contains("mud-chip-color-success", done.Markup);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _context.DisposeAsync();
}
