using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Manifest;
using DrWeb.Ml.Training;
using DrWeb.Tests.Support;

namespace DrWeb.Tests.Ml.Training;

/// <summary>Short real-data trainings of the bundled ResNet18 (tagged: the full-size run is the starter model's).</summary>
[Trait("Category", "RealDataTraining")]
public class TrainerTests(TinySetFixture fixture) : IClassFixture<TinySetFixture>
{
    private static readonly TrainingOptions Quick = new()
    {
        Epochs = 2, BatchSize = 8, Trainable = "layer4.2,fc", LearningRate = 3e-4, Seed = 11,
        Augmentation = AugmentationOptions.None, Sampler = SamplerKind.Shuffle,
        Loader = new LoaderOptions { Workers = 1, Prefetch = 1 },
    };

    private static Trainer NewTrainer(TrainingOptions options) =>
        new(CntkResNet18.Pretrained(), Preprocessing.BgrMeanImage224, options);

    [Fact]
    public void Training_loss_falls()
    {
        using var tmp = SharedData.TempFolder();
        var options = Quick with { Epochs = 6, CacheFrozenFeatures = true };
        var trainer = NewTrainer(options);
        using var _ = trainer.Model;
        var events = new List<TrainingEvent>();
        var result = trainer.Run(fixture.Set.Dataset.Images, tmp.File("ckpt.bin"), progress: new Collect(events));

        Assert.Equal(6, result.History.Count);
        Assert.True(result.History[^1].TrainLoss < 0.8 * result.History[0].TrainLoss,
            $"train loss {string.Join(" -> ", result.History.Select(h => h.TrainLoss.ToString("0.000")))}");
        Assert.Contains(events, e => e is StepCompleted);
        Assert.Equal(6, events.OfType<EpochCompleted>().Count());
        var validationPatients = result.Split.Validation.Select(i => i.PatientId).ToHashSet();
        Assert.DoesNotContain(result.Split.Train, i => validationPatients.Contains(i.PatientId));
        Assert.Equal(result.Split.Validation.Count, result.BestValidation.Images);
    }

    [Fact]
    public void Checkpoint_then_resume_continues_exactly_like_a_straight_run()
    {
        using var tmp = SharedData.TempFolder();
        var augmented = Quick with { Augmentation = new AugmentationOptions(), Sampler = SamplerKind.Weighted, MaxBatchesPerEpoch = 3 };

        var straight = NewTrainer(augmented);
        using var a = straight.Model;
        var straightResult = straight.Run(fixture.Set.Dataset.Images, tmp.File("straight.bin"));

        var first = NewTrainer(augmented with { Epochs = 1 });
        using (first.Model)
            first.Run(fixture.Set.Dataset.Images, tmp.File("resumed.bin"));
        Assert.Equal(1, Checkpoint.ReadHeader(tmp.File("resumed.bin")).EpochsCompleted);

        var second = NewTrainer(augmented);
        using var b = second.Model;
        var resumedResult = second.Run(fixture.Set.Dataset.Images, tmp.File("resumed.bin"), resume: true);

        Assert.Equal(straightResult.History.Select(h => h.TrainLoss), resumedResult.History.Select(h => h.TrainLoss));
        Assert.Equal(straightResult.History.Select(h => h.ValidationLoss), resumedResult.History.Select(h => h.ValidationLoss));
        // Both runs end on their best epoch; compare the checkpoints' final states, which hold the last epoch.
        using var finalA = CntkResNet18.Pretrained();
        using var finalB = CntkResNet18.Pretrained();
        Checkpoint.RestoreModel(tmp.File("straight.bin"), finalA);
        Checkpoint.RestoreModel(tmp.File("resumed.bin"), finalB);
        var stateB = finalB.state_dict();
        foreach (var (key, value) in finalA.state_dict())
            Assert.True(value.allclose(stateB[key], rtol: 0, atol: 1e-6), $"{key} differs after resume");
    }

    [Fact]
    public void Cancellation_stops_within_a_batch_and_keeps_the_last_checkpoint()
    {
        using var tmp = SharedData.TempFolder();
        using var cts = new CancellationTokenSource();
        int steps = 0;
        var trainer = NewTrainer(Quick with { Epochs = 3 });
        using var _ = trainer.Model;
        var progress = new Collect(new List<TrainingEvent>(), e =>
        {
            if (e is StepCompleted s && s.Epoch == 2 && ++steps == 1) cts.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            trainer.Run(fixture.Set.Dataset.Images, tmp.File("ckpt.bin"), progress: progress, cancellationToken: cts.Token));
        Assert.Equal(1, steps);
        Assert.Equal(1, Checkpoint.ReadHeader(tmp.File("ckpt.bin")).EpochsCompleted);
    }

    [Fact]
    public void Frozen_trunk_is_untouched_by_training()
    {
        using var tmp = SharedData.TempFolder();
        var trainer = NewTrainer(Quick with { Epochs = 1, MaxBatchesPerEpoch = 2 });
        using var _ = trainer.Model;
        using var before = CntkResNet18.Pretrained();
        trainer.Run(fixture.Set.Dataset.Images, tmp.File("ckpt.bin"));
        var after = trainer.Model.state_dict();
        foreach (var (key, value) in before.state_dict().Where(kv => kv.Key.StartsWith("layer3.") || kv.Key.StartsWith("bn1.")))
            Assert.True(value.eq(after[key]).all().item<bool>(), $"{key} changed although frozen");
        Assert.False(before.state_dict()["layer4.2.conv2.weight"].eq(after["layer4.2.conv2.weight"]).all().item<bool>());
        Assert.Equal("layer4.1", trainer.Model.FrozenPrefixEnd());
    }

    [Fact]
    public void Options_are_validated_with_clear_messages()
    {
        var e = Assert.Throws<ArgumentException>(() => (Quick with { Epochs = 0, CacheFrozenFeatures = true, Augmentation = new AugmentationOptions() }).Validate());
        Assert.Contains("epochs must be at least 1", e.Message);
        Assert.Contains("only be cached with augmentation off", e.Message);
    }

    private sealed class Collect(List<TrainingEvent> events, Action<TrainingEvent>? also = null) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) { events.Add(value); also?.Invoke(value); }
    }
}
