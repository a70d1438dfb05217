using Google.Protobuf;

namespace DrWeb.Ml.Onnx;

/// <summary>A float tensor stored in an ONNX file.</summary>
public sealed record OnnxTensor(string Name, long[] Dims, float[] Values);

/// <summary>One operator of an ONNX graph, with its attributes as plain values.</summary>
public sealed record OnnxNode(string OpType, string Name, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, object> Attributes)
{
    public long[] Ints(string name) => Attributes.TryGetValue(name, out var v) && v is long[] a ? a : [];
    public float Float(string name, float fallback) => Attributes.TryGetValue(name, out var v) && v is float f ? f : fallback;
}

/// <summary>
/// The parts of an ONNX model DrWeb needs: the node list and the float initializers. Read straight from the protobuf
/// wire format by field number (onnx.proto3), so no generated code or protoc is needed.
/// </summary>
public sealed class OnnxGraph
{
    private OnnxGraph(List<OnnxNode> nodes, Dictionary<string, OnnxTensor> initializers, List<string> inputs, List<string> outputs)
    {
        Nodes = nodes;
        Initializers = initializers;
        Inputs = inputs;
        Outputs = outputs;
    }

    public IReadOnlyList<OnnxNode> Nodes { get; }
    public IReadOnlyDictionary<string, OnnxTensor> Initializers { get; }

    /// <summary>Graph inputs that are not initializers.</summary>
    public IReadOnlyList<string> Inputs { get; }
    public IReadOnlyList<string> Outputs { get; }

    public static OnnxGraph Load(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"ONNX model not found at {path}.", path);
        using var stream = File.OpenRead(path);
        var input = new CodedInputStream(stream);
        // ModelProto: field 7 is the graph.
        while (input.ReadTag() is var tag && tag != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 7)
                return ReadGraph(input.ReadBytes());
            input.SkipLastField();
        }
        throw new InvalidDataException($"{path} holds no ONNX graph.");
    }

    private static OnnxGraph ReadGraph(ByteString bytes)
    {
        var nodes = new List<OnnxNode>();
        var initializers = new Dictionary<string, OnnxTensor>();
        var inputs = new List<string>();
        var outputs = new List<string>();
        var input = bytes.CreateCodedInput();
        while (input.ReadTag() is var tag && tag != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: nodes.Add(ReadNode(input.ReadBytes())); break;
                case 5:
                    var t = ReadTensor(input.ReadBytes());
                    initializers[t.Name] = t;
                    break;
                case 11: inputs.Add(ReadValueInfoName(input.ReadBytes())); break;
                case 12: outputs.Add(ReadValueInfoName(input.ReadBytes())); break;
                default: input.SkipLastField(); break;
            }
        }
        inputs.RemoveAll(initializers.ContainsKey);
        return new OnnxGraph(nodes, initializers, inputs, outputs);
    }

    private static string ReadValueInfoName(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        while (input.ReadTag() is var tag && tag != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 1) return input.ReadString();
            input.SkipLastField();
        }
        return "";
    }

    private static OnnxNode ReadNode(ByteString bytes)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new Dictionary<string, object>();
        string name = "", op = "";
        var input = bytes.CreateCodedInput();
        while (input.ReadTag() is var tag && tag != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: inputs.Add(input.ReadString()); break;
                case 2: outputs.Add(input.ReadString()); break;
                case 3: name = input.ReadString(); break;
                case 4: op = input.ReadString(); break;
                case 5:
                    var (key, value) = ReadAttribute(input.ReadBytes());
                    attributes[key] = value;
                    break;
                default: input.SkipLastField(); break;
            }
        }
        return new OnnxNode(op, name, inputs, outputs, attributes);
    }

    private static (string Name, object Value) ReadAttribute(ByteString bytes)
    {
        string name = "";
        object value = "";
        var ints = new List<long>();
        var floats = new List<float>();
        var input = bytes.CreateCodedInput();
        while (input.ReadTag() is var tag && tag != 0)
        {
            int field = WireFormat.GetTagFieldNumber(tag);
            var wire = WireFormat.GetTagWireType(tag);
            switch (field)
            {
                case 1: name = input.ReadString(); break;
                case 2: value = input.ReadFloat(); break;
                case 3: value = input.ReadInt64(); break;
                case 4: value = input.ReadBytes().ToStringUtf8(); break;
                case 5: value = ReadTensor(input.ReadBytes()); break;
                case 7 when wire == WireFormat.WireType.LengthDelimited: floats.AddRange(ReadPackedFloats(input.ReadBytes())); break;
                case 7: floats.Add(input.ReadFloat()); break;
                case 8 when wire == WireFormat.WireType.LengthDelimited: ints.AddRange(ReadPackedInt64(input.ReadBytes())); break;
                case 8: ints.Add(input.ReadInt64()); break;
                default: input.SkipLastField(); break;
            }
        }
        if (ints.Count > 0) value = ints.ToArray();
        if (floats.Count > 0) value = floats.ToArray();
        return (name, value);
    }

    private static OnnxTensor ReadTensor(ByteString bytes)
    {
        var dims = new List<long>();
        var floats = new List<float>();
        string name = "";
        int dataType = 0;
        ByteString? raw = null;
        var input = bytes.CreateCodedInput();
        while (input.ReadTag() is var tag && tag != 0)
        {
            int field = WireFormat.GetTagFieldNumber(tag);
            var wire = WireFormat.GetTagWireType(tag);
            switch (field)
            {
                case 1 when wire == WireFormat.WireType.LengthDelimited: dims.AddRange(ReadPackedInt64(input.ReadBytes())); break;
                case 1: dims.Add(input.ReadInt64()); break;
                case 2: dataType = input.ReadInt32(); break;
                case 4 when wire == WireFormat.WireType.LengthDelimited: floats.AddRange(ReadPackedFloats(input.ReadBytes())); break;
                case 4: floats.Add(input.ReadFloat()); break;
                case 8: name = input.ReadString(); break;
                case 9: raw = input.ReadBytes(); break;
                default: input.SkipLastField(); break;
            }
        }
        const int FloatType = 1;
        float[] values;
        if (raw is not null && dataType == FloatType)
        {
            values = new float[raw.Length / 4];
            Buffer.BlockCopy(raw.ToByteArray(), 0, values, 0, values.Length * 4);
        }
        else
        {
            values = floats.ToArray();
        }
        return new OnnxTensor(name, dims.ToArray(), values);
    }

    private static IEnumerable<float> ReadPackedFloats(ByteString bytes)
    {
        var data = bytes.ToByteArray();
        for (int i = 0; i + 4 <= data.Length; i += 4) yield return BitConverter.ToSingle(data, i);
    }

    private static List<long> ReadPackedInt64(ByteString bytes)
    {
        var list = new List<long>();
        var input = bytes.CreateCodedInput();
        while (!input.IsAtEnd) list.Add(input.ReadInt64());
        return list;
    }
}
