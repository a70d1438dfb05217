using System.Text;
using System.Text.Json;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Manifest;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DrWeb.Ml.Training;

/// <summary>What a checkpoint says about its run, besides the tensors.</summary>
public sealed record CheckpointHeader(
    int EpochsCompleted,
    string Architecture,
    string Head,
    TrainingOptions Options,
    IReadOnlyList<string> TrainIds,
    IReadOnlyList<string> ValidationIds,
    IReadOnlyList<EpochSummary> History,
    double BestMetric,
    int BestEpoch,
    int EpochsWithoutImprovement);

/// <summary>
/// A resumable snapshot: the header, the model, Adam's moments and step counts, and torch's RNG state, in one file
/// that is written to a temporary name and renamed, so a crash mid-write never leaves a half checkpoint behind.
/// </summary>
public static class Checkpoint
{
    private static readonly byte[] Magic = "DRWEB-CKPT-1\n"u8.ToArray();
    internal static readonly JsonSerializerOptions Json = new()
    {
        // Metrics are NaN when undefined (e.g. AUC with one class in a tiny validation set).
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void Save(string path, CheckpointHeader header, FundusClassifier model, Adam optimizer)
    {
        string temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            using (var stream = File.Create(temp))
            using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: false))
            {
                writer.Write(Magic);
                byte[] json = JsonSerializer.SerializeToUtf8Bytes(header, Json);
                writer.Write(json.Length);
                writer.Write(json);
                model.save(writer);
                optimizer.save_state_dict(writer);
                using var rng = torch.random.get_rng_state();
                byte[] rngBytes = rng.bytes.ToArray();
                writer.Write(rngBytes.Length);
                writer.Write(rngBytes);
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public static CheckpointHeader ReadHeader(string path)
    {
        using var reader = Open(path);
        return ReadHeader(reader, path);
    }

    /// <summary>Restores the model, the optimiser and the RNG; returns the header.</summary>
    public static CheckpointHeader Restore(string path, FundusClassifier model, Adam optimizer)
    {
        using var reader = Open(path);
        var header = ReadHeader(reader, path);
        model.load(reader);
        optimizer.load_state_dict(reader);
        int rngLength = reader.ReadInt32();
        using var rng = torch.empty(rngLength, dtype: ScalarType.Byte);
        rng.bytes = reader.ReadBytes(rngLength);
        torch.random.set_rng_state(rng);
        return header;
    }

    /// <summary>Restores only the model's tensors (e.g. to inspect or export a checkpoint); returns the header.</summary>
    public static CheckpointHeader RestoreModel(string path, FundusClassifier model)
    {
        using var reader = Open(path);
        var header = ReadHeader(reader, path);
        model.load(reader);
        return header;
    }

    private static BinaryReader Open(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"No checkpoint at {path}.", path);
        var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        byte[] magic = reader.ReadBytes(Magic.Length);
        if (!magic.AsSpan().SequenceEqual(Magic))
        {
            reader.Dispose();
            throw new InvalidDataException($"{path} is not a DrWeb checkpoint.");
        }
        return reader;
    }

    private static CheckpointHeader ReadHeader(BinaryReader reader, string path)
    {
        int length = reader.ReadInt32();
        return JsonSerializer.Deserialize<CheckpointHeader>(reader.ReadBytes(length), Json)
               ?? throw new InvalidDataException($"{path} has an empty header.");
    }
}
