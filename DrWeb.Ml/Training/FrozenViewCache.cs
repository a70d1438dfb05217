using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;
using static TorchSharp.torch;

namespace DrWeb.Ml.Training;

/// <summary>
/// The frozen prefix's output for augmented views of training images, kept on disk in fp16 so that later epochs, and
/// later runs on the same data (ensemble members, recipe trials), pay only for the trained layers.
/// <para>
/// A view is identified by (image, view number); what it contains depends on the preprocessing, the augmentation
/// settings, the view seed and the frozen weights. Those four make up the cache's <see cref="Key"/>, one folder each,
/// so changing any of them starts an empty folder rather than serving stale tensors. An image is identified by its id,
/// path, size and modification time: replacing a file changes its entries.
/// </para>
/// <para>
/// The cache is bounded: when a write would take the folder tree over <see cref="MaxBytes"/>, the oldest files of other
/// keys are deleted first; if that is not enough the view is not stored and is recomputed each time it is needed.
/// </para>
/// </summary>
public sealed class FrozenViewCache
{
    private const int FormatVersion = 1;
    private const string PlainView = "plain";
    private readonly Lock _lock = new();
    private readonly HashSet<string> _present = new(StringComparer.Ordinal);
    private long _size;

    /// <param name="root">Folder that holds one sub-folder per key; created if missing.</param>
    /// <param name="key">From <see cref="KeyFor"/>.</param>
    public FrozenViewCache(string root, string key, long[] featureShape, long maxBytes)
    {
        if (maxBytes <= 0) throw new ArgumentException("The view cache needs a positive size bound.", nameof(maxBytes));
        Root = Path.GetFullPath(root);
        Key = key;
        FeatureShape = featureShape;
        MaxBytes = maxBytes;
        Folder = Path.Combine(Root, key);
        Directory.CreateDirectory(Folder);
        string shapeFile = Path.Combine(Folder, "shape.json");
        if (File.Exists(shapeFile) && JsonSerializer.Deserialize<long[]>(File.ReadAllText(shapeFile)) is { } stored && !stored.SequenceEqual(featureShape))
        {
            // Same key, other shape: only an input size change can do this, and that is part of the key; be safe anyway.
            Directory.Delete(Folder, recursive: true);
            Directory.CreateDirectory(Folder);
        }
        File.WriteAllText(shapeFile, JsonSerializer.Serialize(featureShape));
        foreach (var file in Directory.EnumerateFiles(Root, "*.f16", SearchOption.AllDirectories))
        {
            _size += new FileInfo(file).Length;
            if (Path.GetDirectoryName(file) == Folder) _present.Add(Path.GetFileName(file));
        }
    }

    public string Root { get; }
    public string Key { get; }
    public string Folder { get; }
    public long[] FeatureShape { get; }
    public long MaxBytes { get; }

    /// <summary>Bytes of views stored under <see cref="Root"/>, all keys together.</summary>
    public long SizeBytes { get { lock (_lock) return _size; } }

    public int Hits { get; private set; }
    public int Misses { get; private set; }

    /// <summary>Views computed but not stored because the bound was reached.</summary>
    public int NotStored { get; private set; }

    /// <summary>Files of other keys deleted to stay within the bound.</summary>
    public int Evicted { get; private set; }

    private long BytesPerView => FeatureShape.Aggregate(2L, (a, d) => a * d);

    /// <summary>
    /// The cache key: a hash of the format, the architecture and cut, the preprocessing, the augmentation settings, the
    /// view seed and every tensor the training leaves untouched (the frozen prefix among them).
    /// </summary>
    public static string KeyFor(FundusClassifier model, string boundary, Preprocessing preprocessing, AugmentationOptions augmentation, int viewSeed)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string text) => hash.AppendData(Encoding.UTF8.GetBytes(text + "\n"));
        Add($"v{FormatVersion}|{model.Architecture}|{boundary}|{viewSeed}");
        Add(JsonSerializer.Serialize(preprocessing));
        Add(JsonSerializer.Serialize(augmentation));
        foreach (var (name, tensor) in model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (model.TrainablePolicy.Trains(name)) continue;
            Add(name);
            using var cpu = tensor.detach().cpu().contiguous();
            hash.AppendData(cpu.bytes);
        }
        return Convert.ToHexString(hash.GetHashAndReset())[..24].ToLowerInvariant();
    }

    /// <summary>Stable identity of a photograph file, for the entry names.</summary>
    public static string ImageKey(LabelledImage image)
    {
        var info = new FileInfo(image.Path);
        string identity = $"{image.Id}|{info.FullName}|{(info.Exists ? info.Length : -1)}|{(info.Exists ? info.LastWriteTimeUtc.Ticks : 0)}";
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..32].ToLowerInvariant();
    }

    /// <summary>
    /// The augmentation that makes view <paramref name="view"/> of an image: fixed by the image itself (not by its place
    /// in a run's list) and the view seed, so every run with the same data finds the same views.
    /// </summary>
    public static AugmentationDraw Draw(string imageKey, int view, int viewSeed) =>
        new(viewSeed, view, Convert.ToInt32(imageKey[..7], 16));

    /// <param name="view">0..K-1 for augmented views; null for the photograph without augmentation.</param>
    public static string EntryName(string imageKey, int? view) => $"{imageKey}-{(view is { } v ? v.ToString(System.Globalization.CultureInfo.InvariantCulture) : PlainView)}.f16";

    public bool Contains(string entry)
    {
        lock (_lock) return _present.Contains(entry);
    }

    /// <summary>The stored view as a float32 tensor of <see cref="FeatureShape"/>, or null.</summary>
    public Tensor? TryRead(string entry)
    {
        if (!Contains(entry))
        {
            lock (_lock) Misses++;
            return null;
        }
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(Path.Combine(Folder, entry));
        }
        catch (IOException)
        {
            lock (_lock) { _present.Remove(entry); Misses++; }
            return null;
        }
        if (bytes.Length != BytesPerView)
        {
            lock (_lock) { _present.Remove(entry); Misses++; }
            return null;
        }
        var half = empty(FeatureShape, ScalarType.Float16);
        half.bytes = bytes;
        lock (_lock) Hits++;
        var result = half.to(ScalarType.Float32);
        half.Dispose();
        return result;
    }

    /// <summary>
    /// Rounds <paramref name="features"/> (one view, <see cref="FeatureShape"/>) to fp16, stores it if the bound allows,
    /// and returns the rounded float32 tensor, so that a computed view and a cached one train identically.
    /// </summary>
    public Tensor Store(string entry, Tensor features)
    {
        if (!features.shape.SequenceEqual(FeatureShape))
            throw new ArgumentException($"A view of shape [{string.Join(", ", features.shape)}] does not fit a cache of [{string.Join(", ", FeatureShape)}].");
        using var half = features.detach().to(ScalarType.Float16).cpu().contiguous();
        var rounded = half.to(ScalarType.Float32);
        if (Contains(entry)) return rounded;
        long bytes = BytesPerView;
        lock (_lock)
        {
            if (_size + bytes > MaxBytes) EvictOtherKeys(_size + bytes - MaxBytes);
            if (_size + bytes > MaxBytes)
            {
                NotStored++;
                return rounded;
            }
            _size += bytes;
            _present.Add(entry);
        }
        string path = Path.Combine(Folder, entry), temp = path + ".tmp";
        File.WriteAllBytes(temp, half.bytes.ToArray());
        File.Move(temp, path, overwrite: true);
        return rounded;
    }

    /// <summary>Deletes the oldest files of other keys until <paramref name="needed"/> bytes are free. Called under the lock.</summary>
    private void EvictOtherKeys(long needed)
    {
        var others = Directory.EnumerateDirectories(Root)
            .Where(d => !string.Equals(Path.GetFullPath(d), Folder, StringComparison.Ordinal))
            .SelectMany(d => Directory.EnumerateFiles(d, "*.f16"))
            .Select(f => new FileInfo(f))
            .OrderBy(f => f.LastWriteTimeUtc);
        long freed = 0;
        foreach (var file in others)
        {
            if (freed >= needed) break;
            long length = file.Length;
            try { file.Delete(); } catch (IOException) { continue; }
            freed += length;
            _size -= length;
            Evicted++;
        }
    }

    public string Describe() =>
        $"view cache {Key}: {Hits} hit(s), {Misses} miss(es), {NotStored} not stored (bound), {Evicted} evicted; " +
        $"{SizeBytes / 1048576.0:0.0} of {MaxBytes / 1048576.0:0} MiB";
}
