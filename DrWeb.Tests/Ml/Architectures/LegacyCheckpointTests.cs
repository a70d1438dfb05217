using System.Text.Json;
using DrWeb.Ml.Architectures;
using DrWeb.Tests.Support;
using static TorchSharp.torch;

namespace DrWeb.Tests.Ml.Architectures;

/// <summary>
/// PyTorch's legacy (pre-1.6, non-zip) <c>torch.save</c> format, the format of torchvision's original ImageNet files.
/// Fixtures and their expected contents: ../shared/reference/legacy (see its README).
/// </summary>
public class LegacyCheckpointTests
{
    public LegacyCheckpointTests() => TorchSetup.Ensure();

    private static string LegacyDir => Path.Combine(SharedData.SharedRoot, "reference", "legacy");
    private static string MixedPath => Path.Combine(LegacyDir, "legacy_mixed.pth");
    private static string SubsetPath => Path.Combine(LegacyDir, "legacy_densenet_subset.pth");

    private static JsonElement Json(string name) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(LegacyDir, name))).RootElement;

    private static ScalarType DType(string name) => name switch
    {
        "float32" => ScalarType.Float32,
        "float64" => ScalarType.Float64,
        "int64" => ScalarType.Int64,
        _ => throw new ArgumentException(name),
    };

    private static long[] Longs(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt64()).ToArray();

    private static IEnumerable<JsonElement> Flatten(JsonElement e) =>
        e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().SelectMany(Flatten) : [e];

    private static void AssertValues(JsonElement expected, Tensor actual, string key)
    {
        var numbers = Flatten(expected).ToArray();
        Assert.Equal(numbers.Length, (int)actual.numel());
        if (actual.dtype == ScalarType.Int64)
            Assert.Equal(numbers.Select(n => n.GetInt64()).ToArray(), actual.data<long>().ToArray());
        else
        {
            using var asDouble = actual.to_type(ScalarType.Float64);
            double[] values = asDouble.data<double>().ToArray();
            for (int i = 0; i < values.Length; i++)
                Assert.True(numbers[i].GetDouble() == values[i], $"{key}[{i}]: expected {numbers[i].GetDouble():R}, got {values[i]:R}");
        }
    }

    private static void DisposeAll(Dictionary<string, Tensor> state)
    {
        foreach (var t in state.Values) t.Dispose();
    }

    [Fact]
    public void LegacyCheckpoint_mixed_file_has_every_dtype_shape_and_value()
    {
        var expected = Json("legacy_mixed.json").GetProperty("tensors");
        var state = CheckpointImporter.ReadStateDict(MixedPath, out string format);
        try
        {
            Assert.Equal("pytorch-legacy", format);
            Assert.Equal(expected.EnumerateObject().Select(p => p.Name).ToArray(), state.Keys.ToArray());
            foreach (var p in expected.EnumerateObject())
            {
                var t = state[p.Name];
                Assert.Equal(DType(p.Value.GetProperty("dtype").GetString()!), t.dtype);
                Assert.Equal(Longs(p.Value.GetProperty("shape")), t.shape);
                Assert.Equal(TorchSharp.DeviceType.CPU, t.device_type);
                Assert.True(t.is_contiguous(), $"{p.Name} should have its own contiguous memory");
                AssertValues(p.Value.GetProperty("values"), t, p.Name);
            }

            // The extreme int64 values survive exactly.
            Assert.Equal([-(1L << 40), 7L, (1L << 62) + 1], state["i64"].data<long>().ToArray());
            // The transposed view (stride [1,4] over 12 elements) is read as the view, not as the raw storage.
            Assert.Equal([-1f, 1f, 3f, -0.5f, 1.5f, 3.5f, 0f, 2f, 4f, 0.5f, 2.5f, 4.5f], state["transposed"].data<float>().ToArray());
            // Two views of one storage, at offsets 0 and 5, each with its own memory afterwards.
            Assert.Equal([100f, 101.5f, 103f, 104.5f], state["shared_a"].data<float>().ToArray());
            Assert.Equal([107.5f, 109f, 110.5f], state["shared_b"].data<float>().ToArray());
            state["shared_a"].fill_(0f);
            Assert.Equal([107.5f, 109f, 110.5f], state["shared_b"].data<float>().ToArray());
            Assert.Empty(state["scalar"].shape);
            Assert.Equal(-0.375f, state["scalar"].item<float>());
        }
        finally
        {
            DisposeAll(state);
        }
    }

    [Fact]
    public void LegacyCheckpoint_densenet_subset_matches_its_json_and_the_zip_reference_after_renaming()
    {
        var expected = Json("legacy_densenet_subset.json").GetProperty("keys");
        var state = CheckpointImporter.ReadStateDict(SubsetPath, out string format);
        var reference = CheckpointImporter.ReadStateDict(Path.Combine(SharedData.ReferenceDir, "ref_state.pth"), out string refFormat);
        try
        {
            Assert.Equal("pytorch-legacy", format);
            Assert.Equal("pytorch-zip", refFormat);
            Assert.Equal(84, state.Count);
            Assert.Equal(expected.EnumerateObject().Select(p => p.Name).ToArray(), state.Keys.ToArray());
            foreach (var p in expected.EnumerateObject())
            {
                var t = state[p.Name];
                Assert.Equal(DType(p.Value.GetProperty("dtype").GetString()!), t.dtype);
                Assert.Equal(Longs(p.Value.GetProperty("shape")), t.shape);
                using var asDouble = t.to_type(ScalarType.Float64);
                double sum = asDouble.sum().item<double>();
                double expectedSum = p.Value.GetProperty("sum_float64").GetDouble();
                Assert.True(Math.Abs(sum - expectedSum) < 1e-9 * Math.Max(1, Math.Abs(expectedSum)) + 1e-9,
                    $"{p.Name}: sum {sum:R}, expected {expectedSum:R}");
                var first = p.Value.GetProperty("first_values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
                using var flat = asDouble.flatten();
                Assert.Equal(first, flat.data<double>().ToArray().Take(first.Length).ToArray());
            }

            int renamed = CheckpointImporter.RenameLegacyDenseNetKeys(state);
            Assert.Equal(72, renamed);
            var modernKeys = expected.EnumerateObject().Select(p => p.Value.GetProperty("modern_key").GetString()!).ToArray();
            Assert.Equal(modernKeys.Order(StringComparer.Ordinal), state.Keys.Order(StringComparer.Ordinal));
            foreach (string key in modernKeys)
            {
                Assert.True(reference.ContainsKey(key), $"{key} is not in ref_state.pth");
                Assert.Equal(reference[key].dtype, state[key].dtype);
                Assert.Equal(reference[key].shape, state[key].shape);
                Assert.True(reference[key].eq(state[key]).all().item<bool>(), $"{key} differs from ref_state.pth");
            }
            Assert.Equal(7L, state["features.transition1.norm.num_batches_tracked"].item<long>());
        }
        finally
        {
            DisposeAll(state);
            DisposeAll(reference);
        }
    }

    [Fact]
    public void LegacyCheckpoint_densenet_subset_fits_DenseNet121_through_the_user_import_path()
    {
        using var model = new DenseNet121();
        var expected = model.state_dict();

        // The user path: the file holds only the stem, block 1 and transition 1, so the import must list the other
        // blocks as missing, and nothing else: no unexpected key (every legacy name renamed) and no wrong shape.
        var e = Assert.Throws<CheckpointMismatchException>(() => CheckpointImporter.Load(model, SubsetPath));
        Assert.Empty(e.Unexpected);
        Assert.Empty(e.WrongShape);
        Assert.Contains("features.denseblock2.denselayer1.norm1.weight", e.Missing);
        Assert.DoesNotContain(e.Missing, k => k.StartsWith("features.denseblock1.", StringComparison.Ordinal)
            || k.StartsWith("features.conv0.", StringComparison.Ordinal) || k.StartsWith("features.norm0.", StringComparison.Ordinal)
            || k.StartsWith("features.transition1.", StringComparison.Ordinal));

        // Every key of the file, once renamed, is a model key with the same shape and dtype.
        var state = CheckpointImporter.ReadStateDict(SubsetPath, out _);
        try
        {
            CheckpointImporter.RenameLegacyDenseNetKeys(state);
            foreach (var (key, t) in state)
            {
                Assert.True(expected.ContainsKey(key), $"{key} is not a DenseNet121 key");
                Assert.Equal(expected[key].shape, t.shape);
                Assert.Equal(expected[key].dtype, t.dtype);
            }
            // And the weights load into those parameters.
            var (_, unexpected) = model.load_state_dict(state, strict: false);
            Assert.Empty(unexpected);
            Assert.True(model.state_dict()["features.denseblock1.denselayer3.conv2.weight"]
                .eq(state["features.denseblock1.denselayer3.conv2.weight"]).all().item<bool>());
        }
        finally
        {
            DisposeAll(state);
        }
    }

    [Theory]
    [InlineData("legacy_mixed.pth", 10)]      // inside the magic number
    [InlineData("legacy_mixed.pth", 100)]     // inside sys_info
    [InlineData("legacy_mixed.pth", 400)]     // inside the tensor index
    [InlineData("legacy_mixed.pth", 800)]     // inside the storage key list
    [InlineData("legacy_mixed.pth", 894)]     // inside a storage's element count
    [InlineData("legacy_mixed.pth", 1109)]    // one byte short
    [InlineData("legacy_densenet_subset.pth", -60)] // the first 60%
    public void LegacyCheckpoint_truncated_file_says_it_is_cut_off_and_what_to_do(string fixture, int cut)
    {
        using var tmp = SharedData.TempFolder();
        byte[] bytes = File.ReadAllBytes(Path.Combine(LegacyDir, fixture));
        int keep = cut < 0 ? (int)(bytes.LongLength * -cut / 100) : cut;
        string path = tmp.File("cut-" + fixture);
        File.WriteAllBytes(path, bytes[..keep]);

        var e = Assert.Throws<CheckpointException>(() => CheckpointImporter.ReadStateDict(path, out _));
        Assert.Contains(path, e.Message);
        Assert.Contains("incomplete", e.Message);
        Assert.Contains("cut off", e.Message);
        Assert.Contains("download or copy it again", e.Message);
        Assert.Null(e.InnerException);

        using var model = new DenseNet121();
        var viaLoad = Assert.Throws<CheckpointException>(() => CheckpointImporter.Load(model, path));
        Assert.Equal(e.Message, viaLoad.Message);
    }

    [Theory]
    [InlineData(166, 0xff, "opcode 0xFF at byte 166")]     // not an opcode at all
    [InlineData(166, (byte)'G', "opcode 0x47 'G' at byte 166")] // BINFLOAT: a real opcode a state dict never uses
    public void LegacyCheckpoint_unknown_opcode_is_named_with_its_offset(int offset, int opcode, string expected)
    {
        using var tmp = SharedData.TempFolder();
        byte[] bytes = File.ReadAllBytes(MixedPath);
        Assert.Equal((byte)')', bytes[offset]); // the EMPTY_TUPLE after GLOBAL 'collections OrderedDict', BINPUT 0
        bytes[offset] = (byte)opcode;
        string path = tmp.File("odd.pth");
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<CheckpointException>(() => CheckpointImporter.ReadStateDict(path, out _));
        Assert.Contains(expected, e.Message);
        Assert.Contains("Re-save", e.Message);
    }

    /// <summary>
    /// What torchvision's 2017 files may hold (README of the fixtures): Python 2 strings, OrderedDict([[k, v], ...]),
    /// the 4-argument <c>_rebuild_tensor</c>, a CUDA storage type, a storage view, BININT, TUPLE3, LONG_BINPUT/GET.
    /// Built by hand here, since no such file is available.
    /// </summary>
    [Fact]
    public void LegacyCheckpoint_python2_era_file_with_rebuild_tensor_and_storage_views_is_read()
    {
        var b = new List<byte>(File.ReadAllBytes(MixedPath)[..137]); // magic, protocol version, sys_info
        void Op(char c) => b.Add((byte)c);
        void Bytes(params int[] x) => b.AddRange(x.Select(v => (byte)v));
        void Line(string s) => b.AddRange(System.Text.Encoding.ASCII.GetBytes(s + "\n"));
        void ShortString(string s) { Op('U'); b.Add((byte)s.Length); b.AddRange(System.Text.Encoding.ASCII.GetBytes(s)); }
        void LongString(string s) { Op('T'); b.AddRange(BitConverter.GetBytes(s.Length)); b.AddRange(System.Text.Encoding.ASCII.GetBytes(s)); }

        Bytes(0x80, 2); Op('c'); Line("collections"); Line("OrderedDict");
        Op(']'); Op('(');
        // ['w', _rebuild_tensor(storage 'root' (cuda, 6 floats), offset 1, size (2,2), stride (1,2))]
        Op(']'); Op('('); ShortString("w");
        Op('c'); Line("torch._utils"); Line("_rebuild_tensor"); Op('r'); Bytes(0, 1, 0, 0); // LONG_BINPUT 256
        Op('('); Op('('); ShortString("storage"); Op('c'); Line("torch.cuda"); Line("FloatStorage");
        ShortString("root"); ShortString("cuda:0"); Op('J'); Bytes(6, 0, 0, 0); Op('N'); Op('t'); Op('Q');
        Op('K'); Bytes(1); Op('K'); Bytes(2); Op('K'); Bytes(2); Bytes(0x86); Op('K'); Bytes(1); Op('K'); Bytes(2); Bytes(0x86);
        Op('t'); Op('R'); Op('e');
        // ['v', _rebuild_tensor(view 'root_view' = root[2:5], offset 0, size (1,1,3), stride (3,3,1))]
        Op(']'); Op('('); LongString("v");
        Op('j'); Bytes(0, 1, 0, 0); // LONG_BINGET 256
        Op('('); Op('('); ShortString("storage"); Op('c'); Line("torch.cuda"); Line("FloatStorage");
        ShortString("root"); ShortString("cuda:0"); Op('K'); Bytes(6);
        Op('('); ShortString("root_view"); Op('K'); Bytes(2); Op('K'); Bytes(3); Op('t'); Op('t'); Op('Q');
        Op('K'); Bytes(0); Op('K'); Bytes(1); Op('K'); Bytes(1); Op('K'); Bytes(3); Bytes(0x87);
        Op('K'); Bytes(3); Op('K'); Bytes(3); Op('K'); Bytes(1); Bytes(0x87);
        Op('t'); Op('R'); Op('e');
        Op('e'); Bytes(0x85); Op('R'); Op('.');
        Bytes(0x80, 2); Op(']'); Op('('); ShortString("root"); Op('e'); Op('.'); // storage keys
        b.AddRange(BitConverter.GetBytes(6L));
        foreach (float f in new[] { 10f, 11f, 12f, 13f, 14f, 15f }) b.AddRange(BitConverter.GetBytes(f));

        using var tmp = SharedData.TempFolder();
        string path = tmp.File("py2.pth");
        File.WriteAllBytes(path, b.ToArray());
        var state = CheckpointImporter.ReadStateDict(path, out string format);
        try
        {
            Assert.Equal("pytorch-legacy", format);
            Assert.Equal(["w", "v"], state.Keys.ToArray());
            Assert.Equal(TorchSharp.DeviceType.CPU, state["w"].device_type);
            Assert.Equal([2L, 2L], state["w"].shape);
            Assert.Equal([11f, 13f, 12f, 14f], state["w"].data<float>().ToArray());
            Assert.Equal([1L, 1L, 3L], state["v"].shape);
            Assert.Equal([12f, 13f, 14f], state["v"].data<float>().ToArray());
        }
        finally
        {
            DisposeAll(state);
        }
    }

    [Fact]
    public void LegacyCheckpoint_pickle_without_the_torch_magic_number_is_refused()
    {
        using var tmp = SharedData.TempFolder();
        string path = tmp.File("plain.pkl");
        File.WriteAllBytes(path, [0x80, 0x02, 0x4b, 0x07, 0x2e, 0, 0, 0, 0, 0]); // pickle.dumps(7, 2)

        var e = Assert.Throws<CheckpointException>(() => CheckpointImporter.ReadStateDict(path, out _));
        Assert.Contains("not a PyTorch checkpoint", e.Message);
    }
}
