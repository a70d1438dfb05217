using System.Text.Json;
using DrWeb.Ml.Manifest;
using DrWeb.Ml.Onnx;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace DrWeb.Ml.Architectures;

/// <summary>A trained model on disk: <c>model.json</c> plus a safetensors weights file.</summary>
public static class ModelDirectory
{
    public static bool IsModelDirectory(string path) => File.Exists(Path.Combine(path, ModelManifest.FileName));

    /// <summary>
    /// Writes the model. With <paramref name="trainedOnly"/>, only tensors of the trained layers are stored (their
    /// parameters and BatchNorm buffers) and the manifest's <see cref="ModelManifest.BaseWeights"/> says where the rest
    /// comes from; that is how a ResNet18 model fits in a few MB beside its bundled backbone.
    /// </summary>
    /// <summary>Suffix of the per-output-channel scale stored beside an int8 weight.</summary>
    public const string Int8ScaleSuffix = ".int8_scale";

    /// <param name="halfPrecision">Store floating-point tensors as fp16 (half the file; loaded back as fp32). Only with <paramref name="trainedOnly"/>.</param>
    /// <param name="int8Weights">Also store every weight of two or more dimensions as int8 with one fp16 scale per output
    /// channel (symmetric, max-abs), a quarter of fp32; the rest as fp16. Only with <paramref name="trainedOnly"/>.</param>
    public static void Save(string directory, FundusClassifier model, ModelManifest manifest, bool trainedOnly = false, bool halfPrecision = false,
        bool int8Weights = false)
    {
        halfPrecision |= int8Weights;
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
        var parts = new List<Dictionary<string, Tensor>>();
        using (var scope = NewDisposeScope())
        {
            if (int8Weights)
                stored = Quantize(stored);
            if (halfPrecision)
                stored = stored.ToDictionary(kv => kv.Key, kv => kv.Value.dtype == ScalarType.Float32 ? kv.Value.to(ScalarType.Float16) : kv.Value);
            // Parts of bounded size keep every file small enough for a repository or an upload form.
            long size = 0;
            foreach (var (key, value) in stored)
            {
                long bytes = value.NumberOfElements * value.ElementSize;
                if (parts.Count == 0 || (size > 0 && size + bytes > MaxWeightsFileBytes)) { parts.Add([]); size = 0; }
                parts[^1][key] = value;
                size += bytes;
            }
            if (parts.Count == 0) parts.Add([]);
            var names = PartNames(manifest.WeightsFile, parts.Count);
            for (int i = 0; i < parts.Count; i++)
            {
                string path = Path.Combine(directory, names[i]), temp = path + ".tmp";
                Safetensors.SaveStateDict(temp, parts[i]);
                File.Move(temp, path, overwrite: true);
            }
            manifest = manifest with { MoreWeightsFiles = names.Skip(1).ToList() };
        }
        var final = manifest with
        {
            WeightsContent = trainedOnly ? "trained-only" : "full", WeightsPrecision = int8Weights ? "int8" : halfPrecision ? "fp16" : "fp32",
        };
        File.WriteAllText(Path.Combine(directory, ModelManifest.FileName), JsonSerializer.Serialize(final, ModelManifest.Json));
    }

    private static Dictionary<string, Tensor> Quantize(Dictionary<string, Tensor> state)
    {
        var result = new Dictionary<string, Tensor>();
        foreach (var (key, value) in state)
        {
            if (value.dtype != ScalarType.Float32 || value.dim() < 2)
            {
                result[key] = value;
                continue;
            }
            var flat = value.reshape(value.shape[0], -1);
            var scale = flat.abs().amax([1]).clamp_min(1e-12) / 127;
            result[key] = (flat / scale.unsqueeze(1)).round().clamp(-127, 127).to(ScalarType.Int8).reshape(value.shape);
            result[key + Int8ScaleSuffix] = scale;
        }
        return result;
    }

    private static void Dequantize(Dictionary<string, Tensor> state)
    {
        foreach (var scaleKey in state.Keys.Where(k => k.EndsWith(Int8ScaleSuffix, StringComparison.Ordinal)).ToList())
        {
            string key = scaleKey[..^Int8ScaleSuffix.Length];
            var q = state[key];
            var shape = new long[q.dim()];
            Array.Fill(shape, 1L);
            shape[0] = q.shape[0];
            Tensor weight;
            using (NewDisposeScope())
                weight = (q.to(ScalarType.Float32) * state[scaleKey].to(ScalarType.Float32).reshape(shape)).MoveToOuterDisposeScope();
            q.Dispose();
            state[scaleKey].Dispose();
            state.Remove(scaleKey);
            state[key] = weight;
        }
    }

    /// <summary>Largest weights file written; bigger models are stored in parts (<c>weights.safetensors</c>, <c>weights-2.safetensors</c>, ...).</summary>
    public const long MaxWeightsFileBytes = 20L << 20;

    private static List<string> PartNames(string first, int count)
    {
        string stem = Path.GetFileNameWithoutExtension(first), extension = Path.GetExtension(first);
        return Enumerable.Range(1, count).Select(i => i == 1 ? first : $"{stem}-{i}{extension}").ToList();
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
        FundusClassifier Base() => manifest.BaseWeights switch
        {
            null => ModelFactory.Create(manifest.Architecture, manifest.Head, manifest.NumClasses),
            "bundled:" + BundledOnnx.ResNet18FileName => CntkResNet18.Pretrained(manifest.Head, manifest.NumClasses),
            var other => throw new CheckpointException($"{directory}: unknown base weights '{other}'."),
        };
        FundusClassifier model = manifest.IsEnsemble
            ? new EnsembleClassifier(manifest.EnsembleMembers.Select(_ => Base()).ToList())
            : Base();
        string weights = Path.Combine(directory, manifest.WeightsFile);
        if (manifest.WeightsContent == "full" && !manifest.IsEnsemble && manifest.MoreWeightsFiles.Count == 0)
        {
            CheckpointImporter.Load(model, weights);
        }
        else
        {
            var state = CheckpointImporter.ReadStateDict(weights, out _);
            foreach (string part in manifest.MoreWeightsFiles)
            {
                string path = Path.Combine(directory, part);
                if (!File.Exists(path))
                    throw new CheckpointNotFoundException($"{directory} lacks {part}, one of the weight files its model.json names. Copy the whole model folder.");
                foreach (var (key, value) in CheckpointImporter.ReadStateDict(path, out _)) state[key] = value;
            }
            try
            {
                if (manifest.WeightsPrecision == "int8") Dequantize(state);
                var expected = model.state_dict();
                var unexpected = state.Keys.Where(k => !expected.ContainsKey(k)).ToList();
                var wrongShape = state.Keys.Where(k => expected.ContainsKey(k) && !expected[k].shape.SequenceEqual(state[k].shape)).ToList();
                var missing = manifest.WeightsContent == "full" ? expected.Keys.Where(k => !state.ContainsKey(k)).ToList() : [];
                if (unexpected.Count + wrongShape.Count + missing.Count > 0)
                    throw new CheckpointMismatchException(
                        $"{weights} does not fit the model: " + string.Join("; ", new[]
                        {
                            missing.Count > 0 ? $"missing {string.Join(", ", missing.Take(5))}" : null,
                            unexpected.Count > 0 ? $"not in the model {string.Join(", ", unexpected.Take(5))}" : null,
                            wrongShape.Count > 0 ? $"other shape {string.Join(", ", wrongShape.Take(5))}" : null,
                        }.Where(p => p is not null)) + ".", missing, unexpected, wrongShape);
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
