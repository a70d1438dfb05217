using DrWeb.Ml.Manifest;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DrWeb.Ml.Architectures;

/// <summary>
/// DenseNet-121 (Huang et al., 2017) with torchvision's exact module tree, so that its 725 feature keys and the
/// classifier keys match <c>torchvision.models.densenet121().state_dict()</c>. Forward: features, ReLU, global
/// average pool, flatten, classifier.
/// </summary>
public sealed class DenseNet121 : FundusClassifier
{
    private const int Width = 1024;
    private const int GrowthRate = 32;
    private const int BottleneckFactor = 4;
    private const int InitialFeatures = 64;
    private static readonly int[] BlockSizes = [6, 12, 24, 16];

    private readonly Sequential features;
    private readonly Module<Tensor, Tensor> classifier;

    // The children of `features`, in order, for forward passes that stop or resume at a named layer.
    private readonly List<(string Name, Module<Tensor, Tensor> Module)> _stages = [];
    private readonly List<string> _camLayers = [];

    public DenseNet121(HeadKind head = HeadKind.Paper, int numClasses = 5) : base(nameof(DenseNet121))
    {
        Head = head;
        NumClasses = numClasses;

        _stages.Add(("conv0", Conv2d(3, InitialFeatures, kernel_size: 7, stride: 2, padding: 3, bias: false)));
        _stages.Add(("norm0", BatchNorm2d(InitialFeatures)));
        _stages.Add(("relu0", ReLU()));
        _stages.Add(("pool0", MaxPool2d(kernel_size: 3, stride: 2, padding: 1)));
        int width = InitialFeatures;
        for (int b = 0; b < BlockSizes.Length; b++)
        {
            var block = new DenseBlock(BlockSizes[b], width);
            _stages.Add(($"denseblock{b + 1}", block));
            width += BlockSizes[b] * GrowthRate;
            if (b < BlockSizes.Length - 1)
            {
                _stages.Add(($"transition{b + 1}", new Transition(width, width / 2)));
                width /= 2;
            }
        }
        _stages.Add(("norm5", BatchNorm2d(width)));

        features = Sequential(_stages.ToArray());
        classifier = Heads.Create(head, Width, numClasses);
        RegisterComponents();

        // In the order their outputs are complete: a block's layers before the block itself.
        foreach (var (name, module) in _stages)
        {
            if (module is DenseBlock db)
                _camLayers.AddRange(db.LayerNames.Select(l => $"features.{name}.{l}"));
            _camLayers.Add("features." + name);
        }
        InitialiseLikeTorchvision();
    }

    public override string Architecture => "densenet121";
    public override HeadKind Head { get; }
    public override int NumClasses { get; }
    public override IReadOnlyList<string> CamLayers => _camLayers;
    public override string DefaultCamLayer => "features.denseblock4.denselayer16";
    public override string HeadName => "classifier";
    public override TrainablePolicy PaperPolicy => TrainablePolicy.DenseNetPaper;
    public override int FeatureWidth => Width;

    public override Tensor forward(Tensor input) => Classify(features.call(input));

    /// <summary>The 1024-d image embedding: features, ReLU, global average pool.</summary>
    public Tensor PooledFeatures(Tensor input) => Pool(features.call(input));

    public override LayerSplit SplitAt(Tensor input, string layer)
    {
        string path = layer.StartsWith("features.", StringComparison.Ordinal) ? layer["features.".Length..] : layer;
        string[] parts = path.Split('.');
        Tensor x = input;
        for (int i = 0; i < _stages.Count; i++)
        {
            var (name, module) = _stages[i];
            if (name != parts[0])
            {
                x = module.call(x);
                continue;
            }
            int next = i + 1;
            if (parts.Length == 1)
                return new LayerSplit(module.call(x), a => Classify(RunStages(a, next)));
            if (parts.Length == 2 && module is DenseBlock block)
            {
                var (activation, restOfBlock) = block.SplitAt(x, parts[1]);
                return new LayerSplit(activation, a => Classify(RunStages(restOfBlock(a), next)));
            }
            break;
        }
        throw new ArgumentException(
            $"DenseNet121 has no layer '{layer}'. CAM layers are: features.denseblock4.denselayer16 (the paper's), " +
            "features.denseblock4, or any other of features.<stage> and features.denseblockN.denselayerK.");
    }

    public override (Func<Tensor, Tensor> Prefix, Func<Tensor, Tensor> Suffix) Partition(string layer)
    {
        string path = layer.StartsWith("features.", StringComparison.Ordinal) ? layer["features.".Length..] : layer;
        string[] parts = path.Split('.');
        int stage = _stages.FindIndex(s => s.Name == parts[0]);
        if (stage < 0 || parts.Length > 2 || (parts.Length == 2 && _stages[stage].Module is not DenseBlock))
            throw new ArgumentException($"DenseNet121 has no layer '{layer}'.");
        if (parts.Length == 1)
            return (x => RunStages(x, 0, stage + 1), a => Classify(RunStages(a, stage + 1)));
        var block = (DenseBlock)_stages[stage].Module;
        int k = block.LayerNames.ToList().IndexOf(parts[1]);
        if (k < 0) throw new ArgumentException($"DenseNet121 has no layer '{layer}'.");
        // Concatenation is associative, so the block can resume from the concatenation of everything before layer k+1.
        return (x => block.ConcatenatedThrough(RunStages(x, 0, stage), k),
                a => Classify(RunStages(block.ResumeAfter(a, k), stage + 1)));
    }

    private Tensor RunStages(Tensor x, int from, int to)
    {
        for (int i = from; i < to; i++)
            x = _stages[i].Module.call(x);
        return x;
    }

    private Tensor RunStages(Tensor x, int from)
    {
        for (int i = from; i < _stages.Count; i++)
            x = _stages[i].Module.call(x);
        return x;
    }

    private static Tensor Pool(Tensor featureMaps) =>
        functional.adaptive_avg_pool2d(functional.relu(featureMaps), [1, 1]).flatten(1);

    private Tensor Classify(Tensor featureMaps) => classifier.call(Pool(featureMaps));

    /// <summary>torchvision's init: Kaiming-normal convolutions, unit BatchNorm, zero Linear biases.</summary>
    private void InitialiseLikeTorchvision()
    {
        using var _ = no_grad();
        foreach (var (_, module) in named_modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    init.kaiming_normal_(conv.weight);
                    break;
                case BatchNorm2d bn:
                    init.constant_(bn.weight, 1);
                    init.constant_(bn.bias, 0);
                    break;
                case TorchSharp.Modules.Linear linear when linear.bias is not null:
                    init.constant_(linear.bias, 0);
                    break;
            }
        }
    }

    /// <summary>BN-ReLU-Conv1x1-BN-ReLU-Conv3x3, producing <c>GrowthRate</c> new channels.</summary>
    private sealed class DenseLayer : Module<Tensor, Tensor>
    {
        private readonly BatchNorm2d norm1;
        private readonly ReLU relu1;
        private readonly Conv2d conv1;
        private readonly BatchNorm2d norm2;
        private readonly ReLU relu2;
        private readonly Conv2d conv2;

        public DenseLayer(int inputFeatures) : base(nameof(DenseLayer))
        {
            norm1 = BatchNorm2d(inputFeatures);
            relu1 = ReLU();
            conv1 = Conv2d(inputFeatures, BottleneckFactor * GrowthRate, kernel_size: 1, stride: 1, bias: false);
            norm2 = BatchNorm2d(BottleneckFactor * GrowthRate);
            relu2 = ReLU();
            conv2 = Conv2d(BottleneckFactor * GrowthRate, GrowthRate, kernel_size: 3, stride: 1, padding: 1, bias: false);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) =>
            conv2.call(relu2.call(norm2.call(conv1.call(relu1.call(norm1.call(input))))));
    }

    /// <summary>Each layer sees the concatenation of the block input and every earlier layer's output.</summary>
    private sealed class DenseBlock : Module<Tensor, Tensor>
    {
        private readonly List<DenseLayer> _layers = [];

        public DenseBlock(int layerCount, int inputFeatures) : base(nameof(DenseBlock))
        {
            for (int i = 0; i < layerCount; i++)
            {
                var layer = new DenseLayer(inputFeatures + i * GrowthRate);
                _layers.Add(layer);
                register_module($"denselayer{i + 1}", layer);
            }
        }

        public IEnumerable<string> LayerNames => Enumerable.Range(1, _layers.Count).Select(i => $"denselayer{i}");

        public override Tensor forward(Tensor input) => RunFrom([input], 0);

        /// <summary>Stops at one dense layer; the rest of the block continues from the concatenation with its output.</summary>
        public (Tensor Activation, Func<Tensor, Tensor> Continue) SplitAt(Tensor input, string layerName)
        {
            int index = LayerNames.ToList().IndexOf(layerName);
            if (index < 0)
                throw new ArgumentException($"Dense block has no layer '{layerName}'.");
            var inputs = new List<Tensor> { input };
            for (int i = 0; i < index; i++)
                inputs.Add(_layers[i].call(cat(inputs, 1)));
            Tensor activation = _layers[index].call(cat(inputs, 1));
            return (activation, a => RunFrom([.. inputs, a], index + 1));
        }

        /// <summary>The input of layer <paramref name="index"/>+1: the block input and layers 0..index, concatenated.</summary>
        public Tensor ConcatenatedThrough(Tensor input, int index)
        {
            var inputs = new List<Tensor> { input };
            for (int i = 0; i <= index; i++)
                inputs.Add(_layers[i].call(cat(inputs, 1)));
            return cat(inputs, 1);
        }

        /// <summary>Continues the block from <see cref="ConcatenatedThrough"/>'s output.</summary>
        public Tensor ResumeAfter(Tensor concatenated, int index) => RunFrom([concatenated], index + 1);

        private Tensor RunFrom(List<Tensor> inputs, int first)
        {
            for (int i = first; i < _layers.Count; i++)
                inputs.Add(_layers[i].call(cat(inputs, 1)));
            return cat(inputs, 1);
        }
    }

    /// <summary>BN-ReLU-Conv1x1-AvgPool: halves the channels and the resolution between dense blocks.</summary>
    private sealed class Transition : Module<Tensor, Tensor>
    {
        private readonly BatchNorm2d norm;
        private readonly ReLU relu;
        private readonly Conv2d conv;
        private readonly AvgPool2d pool;

        public Transition(int inputFeatures, int outputFeatures) : base(nameof(Transition))
        {
            norm = BatchNorm2d(inputFeatures);
            relu = ReLU();
            conv = Conv2d(inputFeatures, outputFeatures, kernel_size: 1, stride: 1, bias: false);
            pool = AvgPool2d(kernel_size: 2, stride: 2);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => pool.call(conv.call(relu.call(norm.call(input))));
    }
}
