using System.Diagnostics;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Explain;
using DrWeb.Ml.Torch;
using static TorchSharp.torch;

namespace DrWeb.Ml.Inference;

/// <summary>Timings of one measured operation, per image.</summary>
public sealed record BenchmarkTiming(string Operation, int Threads, int Batch, int Iterations,
    double MedianMsPerImage, double MinMsPerImage, double MaxMsPerImage)
{
    /// <summary>Runs <paramref name="run"/> <paramref name="warmup"/> times untimed, then times it per image.</summary>
    public static BenchmarkTiming Measure(string operation, int threads, int batch, int iterations, int warmup, Action run)
    {
        for (int i = 0; i < warmup; i++) run();
        var ms = new double[iterations];
        for (int i = 0; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            ms[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds / batch;
        }
        Array.Sort(ms);
        double median = iterations % 2 == 1 ? ms[iterations / 2] : (ms[iterations / 2 - 1] + ms[iterations / 2]) / 2;
        return new BenchmarkTiming(operation, threads, batch, iterations, median, ms[0], ms[^1]);
    }
}

/// <summary>
/// Measures eval forward (batched) and Grad-CAM (one image) speed. Weights do not change the arithmetic, so a freshly
/// initialised model is as good as a trained one here.
/// </summary>
public static class InferenceBenchmark
{
    public static IEnumerable<BenchmarkTiming> Run(FundusClassifier model, IEnumerable<int> threadCounts,
        int forwardBatch = 8, int iterations = 10, int warmup = 2, string? camLayer = null)
    {
        model.SetTrainingMode(false);
        var cam = new GradCam();
        foreach (int threads in threadCounts)
        {
            TorchRuntime.SetThreads(threads);
            yield return BenchmarkTiming.Measure("forward (eval)", threads, forwardBatch, iterations, warmup, () =>
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                var x = randn(forwardBatch, 3, 224, 224);
                model.call(x).data<float>().ToArray();
            });
            yield return BenchmarkTiming.Measure($"grad-cam {camLayer ?? model.DefaultCamLayer}", threads, 1, iterations, warmup, () =>
            {
                using var x = randn(1, 3, 224, 224);
                cam.Compute(model, x, camLayer);
            });
        }
    }
}

/// <summary>
/// What test-time augmentation and ensembles cost a screening: one photograph graded as the app grades it (a prepared
/// view, then <see cref="Grader.Grade(ModelView, bool, string?)"/>), without and with the heatmap, for a single model
/// and for an ensemble, each without and with the flip.
/// </summary>
public static class ScreeningBenchmark
{
    /// <param name="single">Loads a single model.</param>
    /// <param name="ensemble">Loads the ensemble (its own members, or copies of the single model: the arithmetic does not depend on the weights).</param>
    public static IEnumerable<BenchmarkTiming> Run(Func<FundusClassifier> single, Func<EnsembleClassifier> ensemble, Imaging.Preprocessing preprocessing,
        Imaging.ModelView view, int threads, int iterations = 10, int warmup = 2)
    {
        TorchRuntime.SetThreads(threads);
        foreach (bool isEnsemble in new[] { false, true })
        {
            foreach (bool flip in new[] { false, true })
            {
                FundusClassifier model = isEnsemble ? ensemble() : single();
                string name = (model is EnsembleClassifier e ? $"ensemble of {e.Members.Count}" : "single model") + (flip ? " + flip" : "");
                using var grader = new Grader(model, preprocessing, flipAverage: flip);
                yield return BenchmarkTiming.Measure($"grade, {name}", threads, 1, iterations, warmup, () => grader.Grade(view, explain: false));
                yield return BenchmarkTiming.Measure($"grade + Grad-CAM, {name}", threads, 1, iterations, warmup, () => grader.Grade(view, explain: true));
            }
        }
    }
}

/// <summary>
/// What each CAM method costs beside a plain forward pass, at given layers, for one image and for a batch. Methods
/// that run the model once per channel (Score-CAM) are timed once, without warm-up, and at batch 8 only where the
/// layer has at most <see cref="PerChannelBatchLimit"/> channels: their cost grows linearly with the images.
/// </summary>
public static class CamBenchmark
{
    public const int PerChannelBatchLimit = 64;

    public static IEnumerable<BenchmarkTiming> Run(FundusClassifier model, IReadOnlyList<string> layers, int threads, int iterations = 5, int warmup = 1)
    {
        model.SetTrainingMode(false);
        TorchRuntime.SetThreads(threads);
        foreach (int batch in new[] { 1, 8 })
        {
            yield return BenchmarkTiming.Measure("forward (eval)", threads, batch, iterations, warmup, () =>
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                model.call(randn(batch, 3, 224, 224)).data<float>().ToArray();
            });
            foreach (string layer in layers)
            {
                long channels;
                using (var scope = NewDisposeScope())
                using (no_grad())
                    channels = model.SplitAt(randn(1, 3, 224, 224), layer).Activation.shape[1];
                foreach (var method in CamMethods.All)
                {
                    bool perChannel = method.RunsModelPerChannel;
                    if (perChannel && batch > 1 && channels > PerChannelBatchLimit) continue;
                    yield return BenchmarkTiming.Measure($"{method.Name} {layer}", threads, batch, perChannel ? 1 : iterations, perChannel ? 0 : warmup, () =>
                    {
                        using var x = randn(batch, 3, 224, 224);
                        method.Compute(model, x, layer);
                    });
                }
            }
        }
    }
}
