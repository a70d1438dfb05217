using System.Text.Json;
using DrWeb.Ml.Imaging;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace DrWeb.Ml.Models;

/// <summary>A trained model on disk: <c>model.json</c> plus a safetensors weights file.</summary>
public static class ModelDirectory
{
    public static bool IsModelDirectory(string path) => File.Exists(Path.Combine(path, ModelManifest.FileName));

    /// <summary>
    /// Writes the model. With <paramref name="trainedOnly"/>, only tensors of the trained layers are stored (their
    /// parameters and BatchNorm buffers) and the manifest's <see cref="ModelManifest.BaseWeights"/> says where the rest
    /// comes from; that is how a ResNet18 model fits in a few MB beside its bundled backbone.
    /// </summary>
    /// <param name="halfPrecision">Store floating-point tensors as fp16 (half the file; loaded back as fp32). Only with <paramref name="trainedOnly"/>.</param>
    public static void Save(string directory, FundusClassifier model, ModelManifest manifest, bool trainedOnly = false, bool halfPrecision = false)
    {
        if (halfPrecision && !trainedOnly)
            throw new ArgumentException("fp16 storage is for models that store only their trained layers.");
        if (trainedOnly && manifest.BaseWeights is null)
            throw new ArgumentException("A model that stores only its trained layers must name its base weights.");
        Directory.CreateDirectory(directory);
        var state = model.state_dict();
        var stored = trainedOnly
            ? state.Where(kv => manifest.TrainablePrefixes.Any(p => kv.Key.StartsWith(p, StringComparison.Ordinal)))
                   .ToDictionary(kv => kv.Key, kv => kv.Value)
            : new Dictionary<string, Tensor>(state);
        string weights = Path.Combine(directory, manifest.WeightsFile);
        string temp = weights + ".tmp";
        using (var scope = NewDisposeScope())
        {
            if (halfPrecision)
                stored = stored.ToDictionary(kv => kv.Key, kv => kv.Value.dtype == ScalarType.Float32 ? kv.Value.to(ScalarType.Float16) : kv.Value);
            Safetensors.SaveStateDict(temp, stored);
        }
        File.Move(temp, weights, overwrite: true);
        var final = manifest with { WeightsContent = trainedOnly ? "trained-only" : "full", WeightsPrecision = halfPrecision ? "fp16" : "fp32" };
        File.WriteAllText(Path.Combine(directory, ModelManifest.FileName), JsonSerializer.Serialize(final, ModelManifest.Json));
    }

    /// <summary>Rewrites only <c>model.json</c> (atomically), e.g. after calibration or a new operating point.</summary>
    public static void SaveManifest(string directory, ModelManifest manifest)
    {
        string path = Path.Combine(directory, ModelManifest.FileName);
        string temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(manifest, ModelManifest.Json));
        File.Move(temp, path, overwrite: true);
    }

    public static ModelManifest ReadManifest(string directory)
    {
        string path = Path.Combine(directory, ModelManifest.FileName);
        if (!File.Exists(path))
            throw new CheckpointNotFoundException($"{directory} is not a DrWeb model folder: {ModelManifest.FileName} is missing.");
        try
        {
            return JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(path), ModelManifest.Json)
                   ?? throw new CheckpointException($"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{path} is not a valid model manifest ({e.Message}).", e);
        }
    }

    /// <summary>Builds the model the manifest describes and loads its weights.</summary>
    public static (FundusClassifier Model, ModelManifest Manifest) Load(string directory)
    {
        var manifest = ReadManifest(directory);
        FundusClassifier model = manifest.BaseWeights switch
        {
            null => ModelFactory.Create(manifest.Architecture, manifest.Head, manifest.NumClasses),
            "bundled:" + ResNet18Onnx.OnnxFileName => ResNet18Onnx.Pretrained(manifest.Head, manifest.NumClasses),
            var other => throw new CheckpointException($"{directory}: unknown base weights '{other}'."),
        };
        string weights = Path.Combine(directory, manifest.WeightsFile);
        if (manifest.WeightsContent == "full")
        {
            CheckpointImporter.Load(model, weights);
        }
        else
        {
            var state = CheckpointImporter.ReadStateDict(weights, out _);
            try
            {
                var expected = model.state_dict();
                var wrong = state.Keys.Where(k => !expected.ContainsKey(k) || !expected[k].shape.SequenceEqual(state[k].shape)).ToList();
                if (wrong.Count > 0)
                    throw new CheckpointMismatchException($"{weights} has tensors the model does not: {string.Join(", ", wrong.Take(5))}.", [], wrong, []);
                // fp16 files are widened to the model's own dtype; load_state_dict does not convert.
                foreach (var key in state.Keys.ToList())
                    if (state[key].dtype != expected[key].dtype)
                    {
                        var widened = state[key].to(expected[key].dtype);
                        state[key].Dispose();
                        state[key] = widened;
                    }
                model.load_state_dict(state, strict: false);
            }
            finally
            {
                foreach (var t in state.Values) t.Dispose();
            }
        }
        model.ApplyTrainablePolicy(new TrainablePolicy(manifest.TrainablePolicy, manifest.TrainablePrefixes));
        model.SetTrainingMode(false);
        return (model, manifest);
    }
}
