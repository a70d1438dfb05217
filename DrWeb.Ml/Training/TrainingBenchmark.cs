using DrWeb.Ml.Architectures;
using DrWeb.Ml.Inference;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DrWeb.Ml.Training;

/// <summary>
/// Training-step throughput on random 224 px batches (decoding excluded): the frozen trunk without an autograd graph,
/// then forward, backward and an Adam step through the trained layers; and the same step on cached trunk features.
/// </summary>
public static class TrainingBenchmark
{
    public static IEnumerable<BenchmarkTiming> Run(FundusClassifier model, TrainablePolicy policy, int threads, int batch = 8,
        int iterations = 5, int warmup = 1)
    {
        model.ApplyTrainablePolicy(policy);
        model.SetTrainingMode(true);
        string? boundary = model.FrozenPrefixEnd();
        var (prefix, suffix) = boundary is null ? ((Func<Tensor, Tensor>)(x => x), (Func<Tensor, Tensor>)model.call) : model.Partition(boundary);
        using var optimizer = optim.Adam(model.TrainableParameters(), 1e-4, 0.0, 0.99, 1e-8);
        using var targets = randint(0, model.NumClasses, [batch], dtype: ScalarType.Int64);
        Tensor cached;
        using (no_grad()) using (var x = randn(batch, 3, 224, 224)) cached = prefix(x).detach();

        void Step(Tensor features)
        {
            using var scope = NewDisposeScope();
            var loss = functional.cross_entropy(suffix(features), targets);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }

        yield return BenchmarkTiming.Measure($"{model.Architecture} train step ({policy.Name})", threads, batch, iterations, warmup, () =>
        {
            using var scope = NewDisposeScope();
            Tensor features;
            using (no_grad()) features = prefix(randn(batch, 3, 224, 224)).detach();
            Step(features);
        });
        if (boundary is not null)
            yield return BenchmarkTiming.Measure($"{model.Architecture} train step, cached trunk", threads, batch, iterations, warmup, () => Step(cached));
        cached.Dispose();
    }
}
