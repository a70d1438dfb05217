using DrWeb.Ml.Manifest;
using DrWeb.Ml.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DrWeb.Ml.Architectures;

/// <summary>
/// The ImageNet-pretrained ResNet18 that ships in the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18
/// (<c>ResNet18.onnx</c>, a CNTK export), rebuilt as a TorchSharp module that computes what that graph computes.
/// It is not torchvision's resnet18: every stride-2 convolution and the max-pool pad asymmetrically (top/left only),
/// the stem pads 3/3/2/2, the last stage has three residual blocks rather than two, and the input is BGR on a 0-255
/// scale minus a mean image (see <c>ResNetPreprocess.onnx</c>).
/// Module names follow torchvision's ResNet (conv1, bn1, layer1.0.conv1 ... layer4.1.bn2, layerN.0.downsample.0/1, fc).
/// </summary>
public sealed class CntkResNet18 : FundusClassifier
{
    private const int Width = 512;
    /// <summary>Residual blocks per stage, as in the graph.</summary>
    private static readonly int[] BlocksPerStage = [2, 2, 2, 3];

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential layer1, layer2, layer3, layer4;
    private readonly Module<Tensor, Tensor> fc;
    private readonly List<(string Name, Sequential Stage)> _stages;

    public CntkResNet18(HeadKind head = HeadKind.Paper, int numClasses = 5) : base(nameof(CntkResNet18))
    {
        Head = head;
        NumClasses = numClasses;
        conv1 = Conv2d(3, 64, kernel_size: 7, stride: 2, padding: 0L, bias: false);
        bn1 = BatchNorm2d(64, eps: 1e-5);
        layer1 = Stage(64, 64, downsample: false, BlocksPerStage[0]);
        layer2 = Stage(64, 128, downsample: true, BlocksPerStage[1]);
        layer3 = Stage(128, 256, downsample: true, BlocksPerStage[2]);
        layer4 = Stage(256, 512, downsample: true, BlocksPerStage[3]);
        fc = Heads.Create(head, Width, numClasses);
        RegisterComponents();
        _stages = [("layer1", layer1), ("layer2", layer2), ("layer3", layer3), ("layer4", layer4)];
    }

    public override string Architecture => "resnet18";
    public override HeadKind Head { get; }
    public override int NumClasses { get; }
    public override string HeadName => "fc";
    public override int FeatureWidth => Width;
    public override TrainablePolicy PaperPolicy { get; } = new("paper", ["layer4.", "fc."]);

    /// <summary>Each residual block (<c>layerS.B</c>) and each stage, in the order their outputs are complete.</summary>
    public override IReadOnlyList<string> CamLayers { get; } = Enumerable.Range(0, BlocksPerStage.Length)
        .SelectMany(s => Enumerable.Range(0, BlocksPerStage[s]).Select(b => $"layer{s + 1}.{b}").Append($"layer{s + 1}"))
        .ToList();
    public override string DefaultCamLayer => "layer4";

    /// <summary>A model with the bundled ImageNet weights in its trunk and a freshly initialised head.</summary>
    public static CntkResNet18 Pretrained(HeadKind head = HeadKind.Paper, int numClasses = 5, string? onnxPath = null)
    {
        var model = new CntkResNet18(head, numClasses);
        model.LoadOnnxWeights(OnnxGraph.Load(onnxPath ?? BundledOnnx.File(BundledOnnx.ResNet18FileName)));
        return model;
    }

    /// <summary>
    /// Copies the graph's initializers into the module. Convolutions are matched by their place in the graph (3x3 in
    /// order, 1x1 shortcuts in order), BatchNorms by the convolution feeding them; every shape and padding is
    /// checked, so a different graph is refused rather than loaded wrongly.
    /// </summary>
    public void LoadOnnxWeights(OnnxGraph graph)
    {
        var convs = graph.Nodes.Where(n => n.OpType == "Conv").ToList();
        var threes = convs.Skip(1).Where(c => c.Ints("kernel_shape").SequenceEqual([3L, 3])).ToList();
        var ones = convs.Where(c => c.Ints("kernel_shape").SequenceEqual([1L, 1])).ToList();
        int expectedThrees = 2 * BlocksPerStage.Sum();
        if (threes.Count != expectedThrees || ones.Count != 3 || convs.Count != 1 + expectedThrees + 3)
            throw new InvalidDataException(
                $"The graph's convolutions are not laid out as this ResNet18's ({convs.Count} convolutions, {threes.Count} 3x3, {ones.Count} 1x1).");
        var moduleOfConv = new Dictionary<OnnxNode, string> { [convs[0]] = "conv1" };
        int next = 0;
        for (int stage = 0; stage < BlocksPerStage.Length; stage++)
            for (int block = 0; block < BlocksPerStage[stage]; block++)
                for (int conv = 1; conv <= 2; conv++)
                    moduleOfConv[threes[next++]] = $"layer{stage + 1}.{block}.conv{conv}";
        for (int i = 0; i < 3; i++)
            moduleOfConv[ones[i]] = $"layer{i + 2}.0.downsample.0";

        var state = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (conv, module) in moduleOfConv)
            {
                CheckPads(conv, module);
                state[module + ".weight"] = FromOnnx(graph, conv.Inputs[1]);
                var bn = graph.Nodes.Single(n => n.OpType == "BatchNormalization" && n.Inputs[0] == conv.Outputs[0]);
                if (Math.Abs(bn.Float("epsilon", 1e-5f) - 1e-5f) > 1e-9f)
                    throw new InvalidDataException($"{bn.Name}: epsilon {bn.Float("epsilon", 0)} differs from the module's 1e-5.");
                string bnModule = module == "conv1" ? "bn1" : module.EndsWith("downsample.0") ? module[..^1] + "1" : module.Replace("conv", "bn");
                state[bnModule + ".weight"] = FromOnnx(graph, bn.Inputs[1]);
                state[bnModule + ".bias"] = FromOnnx(graph, bn.Inputs[2]);
                state[bnModule + ".running_mean"] = FromOnnx(graph, bn.Inputs[3]);
                state[bnModule + ".running_var"] = FromOnnx(graph, bn.Inputs[4]);
            }
            var expected = state_dict();
            foreach (var (key, value) in state)
            {
                if (!expected.TryGetValue(key, out var target) || !target.shape.SequenceEqual(value.shape))
                    throw new InvalidDataException($"ONNX weight for {key} has shape [{string.Join(",", value.shape)}], the module expects " +
                                                   (target is null ? "no such key" : $"[{string.Join(",", target.shape)}]") + ".");
            }
            load_state_dict(state, strict: false);
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }
    }

    private static Tensor FromOnnx(OnnxGraph graph, string name) =>
        graph.Initializers.TryGetValue(name, out var t)
            ? tensor(t.Values, t.Dims)
            : throw new InvalidDataException($"The graph has no initializer '{name}'.");

    private static void CheckPads(OnnxNode conv, string module)
    {
        long stride = conv.Ints("strides").FirstOrDefault(1);
        long[] pads = conv.Ints("pads");
        long[] expected = module == "conv1" ? [3, 3, 2, 2]
            : conv.Ints("kernel_shape")[0] == 1 ? [0, 0, 0, 0]
            : stride == 2 ? [1, 1, 0, 0] : [1, 1, 1, 1];
        if (!pads.SequenceEqual(expected))
            throw new InvalidDataException($"{conv.Name} ({module}) pads {string.Join("/", pads)}, expected {string.Join("/", expected)}.");
    }

    public override Tensor forward(Tensor input) => fc.call(Pool(RunStages(Stem(input), 0)));

    /// <summary>The 512-d output of the ONNX graph (its final average pool), flattened.</summary>
    public Tensor PooledFeatures(Tensor input) => Pool(RunStages(Stem(input), 0));

    public override LayerSplit SplitAt(Tensor input, string layer)
    {
        string[] parts = layer.Split('.');
        int index = _stages.FindIndex(s => s.Name == parts[0]);
        int block = parts.Length == 2 && int.TryParse(parts[1], out int b) ? b : -1;
        if (index < 0 || parts.Length > 2 || (parts.Length == 2 && (block < 0 || block >= BlocksPerStage[index])))
            throw new ArgumentException($"ResNet18 has no layer '{layer}'. Use one of: {string.Join(", ", CamLayers)}.");
        Tensor x = Stem(input);
        for (int i = 0; i < index; i++) x = _stages[i].Stage.call(x);
        var stage = _stages[index].Stage;
        if (block < 0)
            x = stage.call(x);
        else
            foreach (var module in stage.children().Cast<Module<Tensor, Tensor>>().Take(block + 1)) x = module.call(x);
        return new LayerSplit(x, a => ContinueAfter(a, layer));
    }

    public override (Func<Tensor, Tensor> Prefix, Func<Tensor, Tensor> Suffix) Partition(string layer)
    {
        // A residual block's output is all that the rest of the network needs.
        return (x => SplitAt(x, layer).Activation, a => ContinueAfter(a, layer));
    }

    private Tensor ContinueAfter(Tensor activation, string layer)
    {
        string[] parts = layer.Split('.');
        int index = _stages.FindIndex(s => s.Name == parts[0]);
        if (parts.Length == 1)
            return fc.call(Pool(RunStages(activation, index + 1)));
        int block = int.Parse(parts[1]);
        var blocks = _stages[index].Stage.children().Cast<Module<Tensor, Tensor>>().ToList();
        for (int i = block + 1; i < blocks.Count; i++) activation = blocks[i].call(activation);
        return fc.call(Pool(RunStages(activation, index + 1)));
    }

    private Tensor Stem(Tensor input)
    {
        var x = functional.relu(bn1.call(conv1.call(functional.pad(input, [3, 2, 3, 2]))));
        // ONNX max-pool padding never wins the max, which -inf padding reproduces exactly.
        return functional.max_pool2d(functional.pad(x, [1, 0, 1, 0], value: double.NegativeInfinity), 3, 2);
    }

    private Tensor RunStages(Tensor x, int from)
    {
        for (int i = from; i < _stages.Count; i++) x = _stages[i].Stage.call(x);
        return x;
    }

    private static Tensor Pool(Tensor x) => functional.adaptive_avg_pool2d(x, [1, 1]).flatten(1);

    private static Sequential Stage(int inputs, int outputs, bool downsample, int blocks) =>
        Sequential(Enumerable.Range(0, blocks)
            .Select(i => (i.ToString(), (Module<Tensor, Tensor>)new BasicBlock(i == 0 ? inputs : outputs, outputs, i == 0 && downsample)))
            .ToArray());

    private sealed class BasicBlock : Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1;
        private readonly BatchNorm2d bn1;
        private readonly Conv2d conv2;
        private readonly BatchNorm2d bn2;
        private readonly Sequential? downsample;
        private readonly bool _strided;

        public BasicBlock(int inputs, int outputs, bool strided) : base(nameof(BasicBlock))
        {
            _strided = strided;
            conv1 = Conv2d(inputs, outputs, kernel_size: 3, stride: strided ? 2 : 1, padding: strided ? 0L : 1L, bias: false);
            bn1 = BatchNorm2d(outputs, eps: 1e-5);
            conv2 = Conv2d(outputs, outputs, kernel_size: 3, stride: 1, padding: 1, bias: false);
            bn2 = BatchNorm2d(outputs, eps: 1e-5);
            if (strided)
                downsample = Sequential(("0", Conv2d(inputs, outputs, kernel_size: 1, stride: 2, bias: false)), ("1", BatchNorm2d(outputs, eps: 1e-5)));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            // The graph pads stride-2 convolutions on the top and left only.
            var first = _strided ? conv1.call(functional.pad(x, [1, 0, 1, 0])) : conv1.call(x);
            var y = bn2.call(conv2.call(functional.relu(bn1.call(first))));
            return functional.relu(y + (downsample is null ? x : downsample.call(x)));
        }
    }
}
