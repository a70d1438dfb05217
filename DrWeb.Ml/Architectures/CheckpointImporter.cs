using System.Collections;
using System.Text.RegularExpressions;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace DrWeb.Ml.Architectures;

/// <summary>A weights file that cannot be used; the message names the file and what is wrong with it.</summary>
public class CheckpointException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The weights file does not exist.</summary>
public sealed class CheckpointNotFoundException(string message) : CheckpointException(message);

/// <summary>The file's keys or shapes do not fit the model.</summary>
public sealed class CheckpointMismatchException(string message, IReadOnlyList<string> missing,
    IReadOnlyList<string> unexpected, IReadOnlyList<string> wrongShape) : CheckpointException(message)
{
    public IReadOnlyList<string> Missing { get; } = missing;
    public IReadOnlyList<string> Unexpected { get; } = unexpected;
    public IReadOnlyList<string> WrongShape { get; } = wrongShape;
}

/// <summary>What happened during an import, for logs and the model manifest.</summary>
public sealed record CheckpointImportReport(string File, string Format, int LoadedKeys, int RenamedLegacyKeys,
    IReadOnlyList<string> SkippedClassifierKeys, IReadOnlyList<string> MissingBatchCounters);

/// <summary>
/// Loads torchvision <c>.pth</c> (zip or legacy pickle) and safetensors state dicts into DrWeb models, and writes them back.
/// </summary>
public static partial class CheckpointImporter
{
    /// <summary>
    /// Loads <paramref name="path"/> into <paramref name="model"/>.
    /// </summary>
    /// <param name="skipMismatchedClassifier">
    /// When the file's classifier does not fit (an ImageNet checkpoint has 1000 classes, DrWeb has 5), keep the model's
    /// own freshly initialised head instead of failing. Use it for base weights; leave it off for trained models.
    /// </param>
    public static CheckpointImportReport Load(FundusClassifier model, string path, bool skipMismatchedClassifier = false)
    {
        var state = ReadStateDict(path, out string format);
        try
        {
            int renamed = RenameLegacyDenseNetKeys(state);
            var report = Apply(model, state, path, format, renamed, skipMismatchedClassifier);
            return report;
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }
    }

    /// <summary>Reads a state dict from a <c>.pth</c> (zip or legacy pre-1.6) or <c>.safetensors</c> file, on the CPU.</summary>
    public static Dictionary<string, Tensor> ReadStateDict(string path, out string format)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new CheckpointNotFoundException(
                $"Weights file not found: {full}. Give the path of a torchvision state dict (.pth saved with " +
                "torch.save(model.state_dict(), path)) or a .safetensors file, e.g. torchvision's densenet121-a639ec97.pth " +
                "copied from a machine that has it (DrWeb never downloads weights).");

        byte[] head = new byte[16];
        long length;
        using (var probe = File.OpenRead(full))
        {
            length = probe.Length;
            int read = probe.Read(head, 0, head.Length);
            if (read < 8)
                throw new CheckpointException($"{full} is empty or too short ({length} bytes) to be a weights file.");
        }

        try
        {
            if (head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4)
            {
                format = "pytorch-zip";
                using var stream = File.OpenRead(full);
                Hashtable table = PyTorchUnpickler.UnpickleStateDict(stream);
                var dict = new Dictionary<string, Tensor>(table.Count);
                foreach (DictionaryEntry e in table)
                    if (e.Value is Tensor t) dict[(string)e.Key] = t;
                return dict;
            }
            if (LegacyTorchReader.LooksLikePickle(head))
            {
                // PyTorch < 1.6 (and torch.save(..., _use_new_zipfile_serialization=False)): torchvision's original files.
                format = "pytorch-legacy";
                return LegacyTorchReader.ReadStateDict(full);
            }
            ulong headerLength = BitConverter.ToUInt64(head, 0);
            if (headerLength > 0 && headerLength < (ulong)length && head[8] == '{')
            {
                format = "safetensors";
                return Safetensors.LoadStateDict(full);
            }
        }
        catch (CheckpointException) { throw; }
        catch (Exception e)
        {
            throw new CheckpointException($"{full} could not be read as a weights file ({e.Message}). It may be truncated or not a state dict.", e);
        }
        throw new CheckpointException(
            $"{full} is neither a PyTorch zip checkpoint nor a safetensors file. Save weights with " +
            "torch.save(model.state_dict(), path) or safetensors.torch.save_file(model.state_dict(), path).");
    }

    /// <summary>
    /// torchvision's original DenseNet files name the dense-layer modules <c>norm.1</c>, <c>relu.1</c>,
    /// <c>conv.1</c>, <c>norm.2</c>, <c>conv.2</c>; the current module tree calls them <c>norm1</c> ... <c>conv2</c>.
    /// </summary>
    public static int RenameLegacyDenseNetKeys(Dictionary<string, Tensor> state)
    {
        int renamed = 0;
        foreach (string key in state.Keys.ToList())
        {
            var m = LegacyDenseLayerKey().Match(key);
            if (!m.Success) continue;
            string newKey = m.Groups[1].Value + m.Groups[2].Value;
            state[newKey] = state[key];
            state.Remove(key);
            renamed++;
        }
        return renamed;
    }

    /// <summary>Writes the model's state dict as <c>.safetensors</c> or PyTorch <c>.pth</c>, by extension.</summary>
    public static void Save(FundusClassifier model, string path)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            if (full.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                model.save_safetensors(temp);
            else
                model.save_py(temp);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private static CheckpointImportReport Apply(FundusClassifier model, Dictionary<string, Tensor> state, string path,
        string format, int renamed, bool skipMismatchedClassifier)
    {
        var expected = model.state_dict();
        var skipped = new List<string>();
        string head = model.HeadName + ".";

        bool classifierFits = state.Where(kv => kv.Key.StartsWith(head, StringComparison.Ordinal))
            .All(kv => expected.TryGetValue(kv.Key, out var t) && t.shape.SequenceEqual(kv.Value.shape))
            && expected.Keys.Where(k => k.StartsWith(head, StringComparison.Ordinal)).All(state.ContainsKey);
        if (!classifierFits && skipMismatchedClassifier)
        {
            foreach (string key in state.Keys.Where(k => k.StartsWith(head, StringComparison.Ordinal)).ToList())
            {
                skipped.Add(key);
                state[key].Dispose();
                state.Remove(key);
            }
        }

        var missing = expected.Keys.Where(k => !state.ContainsKey(k)).ToList();
        // Checkpoints written before PyTorch 0.4.1 have no BatchNorm step counters; PyTorch itself accepts that.
        var missingCounters = missing.Where(k => k.EndsWith(".num_batches_tracked", StringComparison.Ordinal)).ToList();
        missing = missing.Except(missingCounters)
            .Where(k => !(skipped.Count > 0 && k.StartsWith(head, StringComparison.Ordinal))).ToList();
        var unexpected = state.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        var wrongShape = state.Where(kv => expected.TryGetValue(kv.Key, out var t) && !t.shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key}: file {Shape(kv.Value)}, model {Shape(expected[kv.Key])}").ToList();

        if (missing.Count + unexpected.Count + wrongShape.Count > 0)
        {
            string hint = unexpected.Any(k => k.StartsWith("module.", StringComparison.Ordinal))
                ? " Keys start with 'module.': the file was saved from a DataParallel wrapper; save model.module.state_dict() instead."
                : wrongShape.Any(w => w.StartsWith(head, StringComparison.Ordinal)) && !skipMismatchedClassifier
                    ? " The classifier does not fit: import it as base weights (its head is then replaced) or choose the matching head."
                    : $" Is this a {model.Architecture} checkpoint with the '{model.Head}' head?";
            throw new CheckpointMismatchException(
                $"{Path.GetFullPath(path)} does not fit {model.Architecture} ({model.Head} head, {model.NumClasses} classes): " +
                Describe("missing", missing) + Describe("unexpected", unexpected) + Describe("wrong shape", wrongShape) + hint,
                missing, unexpected, wrongShape);
        }

        var (_, unexpectedAfterLoad) = model.load_state_dict(state, strict: false);
        if (unexpectedAfterLoad.Count > 0)
            throw new CheckpointException($"{path}: TorchSharp refused keys {string.Join(", ", unexpectedAfterLoad.Take(5))}.");
        return new CheckpointImportReport(Path.GetFullPath(path), format, state.Count, renamed, skipped, missingCounters);
    }

    private static string Shape(Tensor t) => "[" + string.Join(",", t.shape) + "]";

    private static string Describe(string what, List<string> keys) => keys.Count == 0
        ? ""
        : $"{keys.Count} {what} key(s) ({string.Join(", ", keys.Take(6))}{(keys.Count > 6 ? ", ..." : "")}). ";

    [GeneratedRegex(@"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var|num_batches_tracked))$")]
    private static partial Regex LegacyDenseLayerKey();
}
