using DrWeb.Ml.Imaging;

namespace DrWeb.Ml.Inference;

/// <summary>
/// How long one photograph takes from bytes to model input, step by step: decode, quality gate, fundus crop, and the
/// full preparation with each colour recipe. Single-threaded, as one screening request runs.
/// </summary>
public static class PreprocessingBenchmark
{
    public static IEnumerable<BenchmarkTiming> Run(byte[] photograph, string name, int iterations, int warmup, int inputSize = 224)
    {
        var decoder = new ImageDecoder();
        yield return BenchmarkTiming.Measure($"decode {name}", 1, 1, iterations, warmup, () => decoder.Decode(photograph, name).Dispose());
        using var image = decoder.Decode(photograph, name);
        yield return BenchmarkTiming.Measure("quality gate", 1, 1, iterations, warmup, () => QualityGate.Assess(image.Pixels));
        yield return BenchmarkTiming.Measure($"fundus crop to {inputSize}", 1, 1, iterations, warmup,
            () => FundusCrop.Prepare(image.Pixels, inputSize)?.Dispose());
        foreach (var recipe in Enum.GetValues<ColourRecipe>())
        {
            var prep = Preprocessing.ImageNet224 with { CropFundus = true, Recipe = recipe };
            yield return BenchmarkTiming.Measure($"crop + {recipe.ToString().ToLowerInvariant()} + normalise", 1, 1, iterations, warmup,
                () => ModelInput.ToTensor(image.Pixels, prep).Dispose());
        }
        // What screening does per upload: the gate, then the model's view from the gate's detection, then the tensor.
        var screening = Preprocessing.ImageNet224 with { CropFundus = true, Recipe = ColourRecipe.Clahe };
        yield return BenchmarkTiming.Measure("screening: gate + view from its detection + clahe + normalise", 1, 1, iterations, warmup, () =>
        {
            var quality = QualityGate.Assess(image.Pixels);
            using var view = ModelInput.Prepare(image.Pixels, screening, quality.Location);
            ModelInput.ToTensor(view, screening).Dispose();
        });
    }
}
