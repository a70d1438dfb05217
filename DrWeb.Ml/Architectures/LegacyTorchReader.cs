using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Text;
using static TorchSharp.torch;

namespace DrWeb.Ml.Architectures;

/// <summary>
/// Reads PyTorch's legacy (pre-1.6, non-zip) <c>torch.save</c> format, the format of torchvision's original ImageNet
/// files such as <c>densenet121-a639ec97.pth</c> and <c>vgg16-397923af.pth</c>.
/// </summary>
/// <remarks>
/// The file is five pickles back to back, then the raw storages:
/// (1) the magic number, (2) the protocol version 1001, (3) sys_info (endianness), (4) the state dict, whose tensors
/// refer to storages through persistent ids <c>('storage', type, key, location, numel, view_metadata)</c>, (5) the list
/// of storage keys; then, for each key in that order, an int64 element count and the little-endian elements.
/// Only the pickle opcodes that <c>torch.save</c> writes for a state dict are interpreted; anything else is refused
/// with a <see cref="CheckpointException"/> naming the opcode and its byte offset.
/// </remarks>
internal static class LegacyTorchReader
{
    /// <summary>Pickle 1 of every legacy file: PROTO 2, LONG1 0x1950a86a20f9469cfc6c, STOP.</summary>
    private static readonly BigInteger MagicNumber = BigInteger.Parse("1950a86a20f9469cfc6c", System.Globalization.NumberStyles.HexNumber);
    private const long ProtocolVersion = 1001;

    /// <summary>True when <paramref name="head"/> starts like a pickle, which is how a legacy checkpoint starts.</summary>
    public static bool LooksLikePickle(ReadOnlySpan<byte> head) => head.Length >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5;

    /// <summary>Reads every tensor of the state dict in <paramref name="path"/>, on the CPU, each with its own memory.</summary>
    public static Dictionary<string, Tensor> ReadStateDict(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        var reader = new PickleReader(stream, path);
        var storages = new Dictionary<string, Storage>(StringComparer.Ordinal);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            reader.Section = "magic number";
            if (reader.Load() is not BigInteger magic || magic != MagicNumber)
                throw new CheckpointException(
                    $"{path} is a Python pickle but not a PyTorch checkpoint (its magic number is wrong). Save weights with " +
                    "torch.save(model.state_dict(), path) or safetensors.torch.save_file(model.state_dict(), path).");

            reader.Section = "protocol version";
            if (reader.Load() is not long version || version != ProtocolVersion)
                throw new CheckpointException(
                    $"{path} uses legacy PyTorch serialisation protocol other than {ProtocolVersion}, which DrWeb cannot read. " +
                    "Re-save it with PyTorch >= 1.6: torch.save(torch.load(old), new).");

            reader.Section = "system information";
            if (reader.Load() is PyDict sysInfo && sysInfo.Get("little_endian") is false)
                throw new CheckpointException(
                    $"{path} was saved on a big-endian machine, which DrWeb cannot read. Re-save it on a little-endian " +
                    "machine (x86, ARM) with PyTorch >= 1.6: torch.save(torch.load(old), new).");

            reader.Section = "tensor index";
            reader.PersistentLoad = pid => ResolveStorage(pid, storages, reader);
            object? top = reader.Load();
            reader.PersistentLoad = null;
            if (top is not PyDict dict)
                throw new CheckpointException(
                    $"{path} holds a {Describe(top)}, not a state dict. Save weights with torch.save(model.state_dict(), path).");

            reader.Section = "storage list";
            if (reader.Load() is not List<object?> keys || keys.Any(k => k is not string))
                throw Corrupt(path, "its list of storages is not a list of names");

            foreach (string key in keys.Cast<string>())
            {
                if (!storages.TryGetValue(key, out var storage))
                    throw Corrupt(path, $"storage '{key}' is listed but no tensor uses it");
                reader.Section = $"data of storage '{key}'";
                storage.Data = reader.ReadStorage(storage);
            }
            if (storages.Values.FirstOrDefault(s => s.Data is null) is { } unread)
                throw Corrupt(path, $"storage '{unread.Key}' is used by a tensor but is not in the file");

            foreach (var (key, value) in dict.Items)
            {
                if (key is not string name || value is not TensorRef tensor) continue;
                result[name] = Build(tensor, name, path);
            }
            if (result.Count == 0)
                throw new CheckpointException(
                    $"{path} holds no tensors at its top level (keys: {string.Join(", ", dict.Items.Take(6).Select(i => i.Key))}). " +
                    "DrWeb reads a plain state dict: save torch.save(model.state_dict(), path).");
            return result;
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        finally
        {
            foreach (var s in storages.Values) s.Data?.Dispose();
        }
    }

    /// <summary>The persistent-load hook: turns <c>('storage', type, key, location, numel, view_metadata)</c> into a view.</summary>
    private static StorageView ResolveStorage(object? pid, Dictionary<string, Storage> storages, PickleReader reader)
    {
        string path = reader.Path;
        if (pid is object?[] { Length: > 0 } t && t[0] is "module")
            throw new CheckpointException(
                $"{path} holds a whole pickled model, not a state dict. Save the weights only: torch.save(model.state_dict(), path).");
        if (pid is not object?[] { Length: 6 } id || id[0] is not "storage" || id[1] is not PyGlobal type
            || id[2] is not string key || id[4] is not long numel || numel < 0)
            throw Corrupt(path, $"a tensor refers to its storage in an unknown way ({Describe(pid)} at byte {reader.OpcodeOffset})");
        if (type.Module is not ("torch" or "torch.cuda") || !StorageTypes.TryGetValue(type.Name, out var element))
            throw new CheckpointException(
                $"{path} holds a tensor of type {type.Module}.{type.Name}, which DrWeb cannot read. Convert the state dict " +
                "to float32 in PyTorch and save it again.");

        if (!storages.TryGetValue(key, out var storage))
            storages[key] = storage = new Storage(key, element.Type, element.Size, numel);
        else if (storage.Type != element.Type || storage.Numel != numel)
            throw Corrupt(path, $"storage '{key}' is described twice with different types or sizes");

        if (id[5] is null) return new StorageView(storage, 0);
        // Storage views (torch < 0.4): (view_key, offset, size), in elements of the root storage.
        if (id[5] is object?[] { Length: 3 } view && view[1] is long offset && view[2] is long size
            && offset >= 0 && size >= 0 && offset + size <= numel)
            return new StorageView(storage, offset);
        throw Corrupt(path, $"storage '{key}' has an unreadable view description");
    }

    /// <summary>Copies one tensor out of its storage: <c>as_strided(size, stride, offset)</c>, then its own memory.</summary>
    private static Tensor Build(TensorRef t, string name, string path)
    {
        var storage = t.Storage.Root;
        long offset = t.Storage.Offset + t.Offset;
        if (t.Size.Length != t.Stride.Length || offset < 0 || t.Size.Any(s => s < 0) || t.Stride.Any(s => s < 0))
            throw Corrupt(path, $"tensor '{name}' has an invalid shape or stride");
        long last = offset;
        if (t.Size.All(s => s > 0))
            for (int d = 0; d < t.Size.Length; d++) last += (t.Size[d] - 1) * t.Stride[d];
        if (t.Size.All(s => s > 0) && last >= storage.Numel)
            throw Corrupt(path, $"tensor '{name}' reaches element {last} of a storage of {storage.Numel}");

        using var view = storage.Data!.as_strided(t.Size, t.Stride, offset);
        var copy = empty(t.Size, storage.Type);
        copy.copy_(view);
        return copy;
    }

    private static CheckpointException Corrupt(string path, string what) => new(
        $"{path} is damaged: {what}. Download or copy the file again, or re-save it with PyTorch >= 1.6: " +
        "torch.save(torch.load(old), new).");

    private static string Describe(object? o) => o switch
    {
        null => "None",
        string s => $"string '{s}'",
        object?[] tuple => $"tuple of {tuple.Length}",
        List<object?> list => $"list of {list.Count}",
        PyGlobal g => $"{g.Module}.{g.Name}",
        TensorRef => "single tensor",
        _ => o.GetType().Name,
    };

    private static readonly Dictionary<string, (ScalarType Type, int Size)> StorageTypes = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = (ScalarType.Float32, 4),
        ["DoubleStorage"] = (ScalarType.Float64, 8),
        ["HalfStorage"] = (ScalarType.Float16, 2),
        ["BFloat16Storage"] = (ScalarType.BFloat16, 2),
        ["LongStorage"] = (ScalarType.Int64, 8),
        ["IntStorage"] = (ScalarType.Int32, 4),
        ["ShortStorage"] = (ScalarType.Int16, 2),
        ["CharStorage"] = (ScalarType.Int8, 1),
        ["ByteStorage"] = (ScalarType.Byte, 1),
        ["BoolStorage"] = (ScalarType.Bool, 1),
    };

    // ---- What the pickles turn into ----

    private sealed record PyGlobal(string Module, string Name);

    /// <summary>A dict or OrderedDict, in insertion order.</summary>
    private sealed class PyDict
    {
        public List<KeyValuePair<object?, object?>> Items { get; } = [];
        public object? Get(string key) => Items.FirstOrDefault(i => i.Key is string k && k == key).Value;
    }

    private sealed class Storage(string key, ScalarType type, int elementSize, long numel)
    {
        public string Key { get; } = key;
        public ScalarType Type { get; } = type;
        public int ElementSize { get; } = elementSize;
        public long Numel { get; } = numel;
        public Tensor? Data { get; set; }
    }

    private sealed record StorageView(Storage Root, long Offset);

    private sealed record TensorRef(StorageView Storage, long Offset, long[] Size, long[] Stride);

    // ---- A pickle protocol 2 subset ----

    private sealed class PickleReader(Stream stream, string path)
    {
        private readonly long _length = stream.Length;
        private long _position;
        private readonly List<object?> _stack = [];
        private readonly Stack<int> _marks = new();
        private readonly Dictionary<long, object?> _memo = [];

        public string Path { get; } = path;
        public string Section { get; set; } = "";
        public long OpcodeOffset { get; private set; }
        public Func<object?, object?>? PersistentLoad { get; set; }

        /// <summary>Runs one pickle, from PROTO to STOP, and returns its object.</summary>
        public object? Load()
        {
            _stack.Clear();
            _marks.Clear();
            _memo.Clear();
            while (true)
            {
                OpcodeOffset = _position;
                byte op = ReadByte();
                switch (op)
                {
                    case 0x80: ReadByte(); break;                                          // PROTO
                    case (byte)'.': return Pop();                                          // STOP
                    case (byte)'c': Push(new PyGlobal(ReadLine(), ReadLine())); break;     // GLOBAL
                    case (byte)'q': _memo[ReadByte()] = Peek(); break;                     // BINPUT
                    case (byte)'r': _memo[ReadUInt32()] = Peek(); break;                   // LONG_BINPUT
                    case (byte)'h': Push(Memo(ReadByte())); break;                         // BINGET
                    case (byte)'j': Push(Memo(ReadUInt32())); break;                       // LONG_BINGET
                    case (byte)'(': _marks.Push(_stack.Count); break;                      // MARK
                    case (byte)'t': Push(PopMark().ToArray()); break;                      // TUPLE
                    case (byte)')': Push(Array.Empty<object?>()); break;                   // EMPTY_TUPLE
                    case 0x85: { var a = Pop(); Push(new[] { a }); break; }                // TUPLE1
                    case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; } // TUPLE2
                    case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; } // TUPLE3
                    case (byte)'}': Push(new PyDict()); break;                             // EMPTY_DICT
                    case (byte)']': Push(new List<object?>()); break;                      // EMPTY_LIST
                    case (byte)'X': Push(ReadString(ReadUInt32())); break;                 // BINUNICODE
                    case (byte)'U': Push(ReadString(ReadByte())); break;                   // SHORT_BINSTRING (Python 2)
                    case (byte)'T': Push(ReadString(ReadUInt32())); break;                 // BINSTRING (Python 2)
                    case (byte)'J': Push((long)(int)ReadUInt32()); break;                  // BININT
                    case (byte)'K': Push((long)ReadByte()); break;                         // BININT1
                    case (byte)'M': Push((long)(ReadByte() | ReadByte() << 8)); break;     // BININT2
                    case 0x8a: Push(ReadLong1()); break;                                   // LONG1
                    case (byte)'N': Push(null); break;                                     // NONE
                    case 0x88: Push(true); break;                                          // NEWTRUE
                    case 0x89: Push(false); break;                                         // NEWFALSE
                    case (byte)'Q': Push(PersistentId(Pop())); break;                      // BINPERSID
                    case (byte)'R': { var args = Pop(); var f = Pop(); Push(Reduce(f, args)); break; } // REDUCE
                    case (byte)'s': { var v = Pop(); var k = Pop(); AsDict(Peek()).Items.Add(new(k, v)); break; } // SETITEM
                    case (byte)'u': SetItems(); break;                                     // SETITEMS
                    case (byte)'a': { var v = Pop(); AsList(Peek()).Add(v); break; }       // APPEND
                    case (byte)'e': { var items = PopMark(); AsList(Peek()).AddRange(items); break; } // APPENDS
                    case (byte)'b': Pop(); break;  // BUILD: object state, e.g. a state dict's _metadata; not needed
                    default:
                        string shown = op is >= 0x20 and < 0x7f ? $"0x{op:X2} '{(char)op}'" : $"0x{op:X2}";
                        throw new CheckpointException(
                            $"{Path} uses pickle opcode {shown} at byte {OpcodeOffset} (in its {Section}), which DrWeb's " +
                            "reader for legacy PyTorch checkpoints does not support. Re-save the file with PyTorch >= 1.6: " +
                            "torch.save(torch.load(old), new), or export a .safetensors file.");
                }
            }
        }

        /// <summary>Reads one storage block: int64 element count, then the little-endian elements.</summary>
        public Tensor ReadStorage(Storage storage)
        {
            Span<byte> count = stackalloc byte[8];
            ReadExactly(count);
            long numel = BitConverter.ToInt64(count);
            if (numel != storage.Numel)
                throw Corrupt(Path, $"storage '{storage.Key}' has {numel} elements at byte {_position - 8}, its tensors expect {storage.Numel}");
            long bytes = numel * storage.ElementSize;
            if (bytes > _length - _position) Truncated(bytes);
            if (bytes > Array.MaxLength)
                throw new CheckpointException(
                    $"{Path} holds a storage of {bytes} bytes; DrWeb reads storages of at most 2 GB from legacy files. " +
                    "Re-save it with PyTorch >= 1.6: torch.save(torch.load(old), new), or export a .safetensors file.");
            var data = empty(numel, storage.Type);
            if (bytes == 0) return data;
            try
            {
                byte[] buffer = new byte[bytes];
                ReadExactly(buffer);
                data.bytes = buffer;
                return data;
            }
            catch
            {
                data.Dispose();
                throw;
            }
        }

        private object? PersistentId(object? pid) => PersistentLoad is { } load
            ? load(pid)
            : throw Corrupt(Path, $"its {Section} refers to a storage (byte {OpcodeOffset})");

        private object? Reduce(object? callable, object? args)
        {
            if (callable is not PyGlobal g || args is not object?[] a)
                throw Corrupt(Path, $"a call at byte {OpcodeOffset} has no function or arguments");
            switch (g.Module, g.Name)
            {
                case ("collections", "OrderedDict") when a.Length == 0:
                    return new PyDict();
                case ("collections", "OrderedDict") when a.Length == 1 && a[0] is List<object?> pairs: // Python 2: OrderedDict([[k, v], ...])
                    var dict = new PyDict();
                    foreach (object? pair in pairs)
                    {
                        if (pair is List<object?> { Count: 2 } l) dict.Items.Add(new(l[0], l[1]));
                        else if (pair is object?[] { Length: 2 } t) dict.Items.Add(new(t[0], t[1]));
                        else throw Corrupt(Path, $"the OrderedDict built at byte {OpcodeOffset} has an item that is not a pair");
                    }
                    return dict;
                case ("torch._utils", "_rebuild_tensor_v2") when a.Length >= 4: // storage, offset, size, stride, requires_grad, hooks[, metadata]
                case ("torch._utils", "_rebuild_tensor") when a.Length == 4:    // storage, offset, size, stride (torch <= 0.3)
                    if (a[0] is not StorageView storage)
                        throw Corrupt(Path, $"the tensor built at byte {OpcodeOffset} has no storage");
                    return new TensorRef(storage, ToLong(a[1]), ToLongs(a[2]), ToLongs(a[3]));
                case ("torch._utils", "_rebuild_parameter") when a.Length >= 1:  // nn.Parameter(data, requires_grad, hooks)
                    return a[0];
                case ("torch", "Size") when a.Length == 1:
                    return a[0];
                default:
                    throw new CheckpointException(
                        $"{Path} calls {g.Module}.{g.Name} at byte {OpcodeOffset} (in its {Section}), which a plain state dict " +
                        "does not contain and DrWeb does not rebuild. Save the weights only: torch.save(model.state_dict(), path).");
            }
        }

        private long ToLong(object? o) => o is long v ? v : throw Corrupt(Path, $"a tensor at byte {OpcodeOffset} has a non-integer offset, size or stride");

        private long[] ToLongs(object? o) => o is object?[] items
            ? items.Select(ToLong).ToArray()
            : throw Corrupt(Path, $"a tensor at byte {OpcodeOffset} has a size or stride that is not a tuple");

        private void SetItems()
        {
            var items = PopMark();
            if (items.Count % 2 != 0) throw Corrupt(Path, $"SETITEMS at byte {OpcodeOffset} has an odd number of items");
            var dict = AsDict(Peek());
            for (int i = 0; i < items.Count; i += 2) dict.Items.Add(new(items[i], items[i + 1]));
        }

        private PyDict AsDict(object? o) => o as PyDict ?? throw Corrupt(Path, $"byte {OpcodeOffset} adds items to a {Describe(o)}, not a dict");

        private List<object?> AsList(object? o) => o as List<object?> ?? throw Corrupt(Path, $"byte {OpcodeOffset} appends to a {Describe(o)}, not a list");

        private void Push(object? o) => _stack.Add(o);

        private object? Peek() => _stack.Count > 0 ? _stack[^1] : throw Corrupt(Path, $"its {Section} is malformed at byte {OpcodeOffset} (empty stack)");

        private object? Pop()
        {
            object? o = Peek();
            _stack.RemoveAt(_stack.Count - 1);
            return o;
        }

        private List<object?> PopMark()
        {
            if (_marks.Count == 0 || _marks.Peek() > _stack.Count)
                throw Corrupt(Path, $"its {Section} is malformed at byte {OpcodeOffset} (no MARK)");
            int start = _marks.Pop();
            var items = _stack.GetRange(start, _stack.Count - start);
            _stack.RemoveRange(start, _stack.Count - start);
            return items;
        }

        private object? Memo(long index) => _memo.TryGetValue(index, out var o)
            ? o
            : throw Corrupt(Path, $"its {Section} refers to unknown memo entry {index} at byte {OpcodeOffset}");

        // ---- Bytes ----

        private byte ReadByte()
        {
            int b = stream.ReadByte();
            if (b < 0) Truncated(1);
            _position++;
            return (byte)b;
        }

        private uint ReadUInt32()
        {
            Span<byte> b = stackalloc byte[4];
            ReadExactly(b);
            return BitConverter.ToUInt32(b);
        }

        /// <summary>LONG1: a length byte, then that many bytes of little-endian two's complement.</summary>
        private object ReadLong1()
        {
            int n = ReadByte();
            Span<byte> b = stackalloc byte[n];
            ReadExactly(b);
            var value = new BigInteger(b, isUnsigned: false, isBigEndian: false);
            return value >= long.MinValue && value <= long.MaxValue ? (long)value : value;
        }

        private string ReadString(long length)
        {
            if (length > _length - _position) Truncated(length);
            byte[] b = new byte[length];
            ReadExactly(b);
            return Encoding.UTF8.GetString(b);
        }

        private string ReadLine()
        {
            var sb = new StringBuilder();
            for (byte b = ReadByte(); b != (byte)'\n'; b = ReadByte())
            {
                if (sb.Length > 1000) throw Corrupt(Path, $"its {Section} has an overlong name at byte {OpcodeOffset}");
                sb.Append((char)b);
            }
            return sb.ToString();
        }

        private void ReadExactly(Span<byte> buffer)
        {
            if (buffer.Length > _length - _position) Truncated(buffer.Length);
            stream.ReadExactly(buffer);
            _position += buffer.Length;
        }

        [DoesNotReturn]
        private void Truncated(long needed) => throw new CheckpointException(
            $"{Path} is incomplete: it ends at byte {_length}, in the middle of its {Section}, which needs " +
            $"{needed} more byte(s) from byte {_position}. The file was cut off while downloading or copying; download or " +
            "copy it again (or re-save it with torch.save in PyTorch).");
    }
}
