using System.Globalization;
using System.Text;
using System.Text.Json;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Manifest;
using DrWeb.Ml.Torch;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DrWeb.Ml.Evaluation;

/// <summary>Runs a model over labelled images and writes the figures and the per-image predictions.</summary>
public static class ModelEvaluator
{
    /// <param name="flipAverage">Test-time augmentation: average the probabilities of the view and its mirror image.</param>
    public static List<EvaluatedImage> Predict(FundusClassifier model, Preprocessing prep, IReadOnlyList<LabelledImage> images,
        int batchSize = 8, IProgress<int>? progress = null, CancellationToken token = default, double temperature = 1.0,
        bool flipAverage = false)
    {
        var device = TorchRuntime.IsInitialized ? TorchRuntime.Device : CPU;
        model.to(device);
        model.SetTrainingMode(false);
        var order = Enumerable.Range(0, images.Count).ToArray();
        var batches = BatchLoader.Batches(images, order, batchSize, prep, AugmentationOptions.None, 0, 0, null, token);
        return PredictBatches(batches, images, batch =>
        {
            var x = tensor(batch.Pixels, [batch.Count, 3, batch.InputSize, batch.InputSize]).to(device);
            // As the grader does: the views' probabilities averaged at T = 1, then temperature-scaled.
            var probabilities = functional.softmax(model.call(x), 1);
            return flipAverage ? (probabilities + functional.softmax(model.call(x.flip(3)), 1)) / 2 : probabilities;
        }, temperature, progress, token);
    }

    /// <summary>
    /// The prediction loop that <see cref="Predict"/> and validation during training share: each batch's probabilities,
    /// from <paramref name="probabilitiesOf"/> (called without gradients, inside a dispose scope), become one row per image.
    /// </summary>
    public static List<EvaluatedImage> PredictBatches(IEnumerable<Batch> batches, IReadOnlyList<LabelledImage> images,
        Func<Batch, Tensor> probabilitiesOf, double temperature = 1.0, IProgress<int>? progress = null, CancellationToken token = default)
    {
        var results = new List<EvaluatedImage>(images.Count);
        foreach (var batch in batches)
        {
            token.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var probabilities = probabilitiesOf(batch).cpu();
            for (int k = 0; k < batch.Count; k++)
            {
                float[] p = probabilities[k].data<float>().ToArray();
                if (temperature != 1.0) p = TemperatureScaling.Apply(p, temperature);
                var image = images[batch.ImageIndices[k]];
                results.Add(new EvaluatedImage(image.Id, image.Grade, Array.IndexOf(p, p.Max()), p));
            }
            progress?.Report(results.Count);
        }
        return results;
    }

    /// <summary>Reads the per-image predictions that <see cref="Write"/> wrote.</summary>
    public static List<EvaluatedImage> ReadPredictions(string csv)
    {
        if (!File.Exists(csv)) throw new FileNotFoundException($"No predictions file at {csv}.", csv);
        var result = new List<EvaluatedImage>();
        foreach (var line in File.ReadLines(csv).Skip(1))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var c = line.Split(',');
            if (c.Length != 8) throw new InvalidDataException($"{csv}: expected image,true_grade,predicted_grade,p0..p4 but read '{line}'.");
            var p = c[3..].Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            result.Add(new EvaluatedImage(c[0], int.Parse(c[1], CultureInfo.InvariantCulture), int.Parse(c[2], CultureInfo.InvariantCulture), p));
        }
        return result;
    }

    /// <summary>Writes <c>metrics.json</c> and <c>predictions.csv</c> into <paramref name="folder"/>.</summary>
    public static (string Metrics, string Predictions) Write(string folder, EvaluationReport report, IReadOnlyList<EvaluatedImage> images)
    {
        Directory.CreateDirectory(folder);
        string metrics = Path.Combine(folder, "metrics.json");
        File.WriteAllText(metrics, JsonSerializer.Serialize(report, ModelManifest.Json));
        string predictions = Path.Combine(folder, "predictions.csv");
        var csv = new StringBuilder("image,true_grade,predicted_grade,p0,p1,p2,p3,p4\n");
        foreach (var i in images)
            csv.Append(CultureInfo.InvariantCulture, $"{i.Image},{i.TrueGrade},{i.PredictedGrade},{string.Join(",", i.Probabilities.Select(p => p.ToString("0.000000", CultureInfo.InvariantCulture)))}\n");
        File.WriteAllText(predictions, csv.ToString());
        return (metrics, predictions);
    }
}
