using DrWeb.Ml.Manifest;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DrWeb.Ml.Architectures;

/// <summary>
/// torchvision's ResNet101 (TorchVision 0.107), one of the study's comparison models. Its modules keep torchvision's
/// names (conv1, bn1, layer1..layer4, fc), so torchvision ImageNet checkpoints load unchanged; <c>fc</c> is replaced by
/// the chosen head from 2048 features.
/// </summary>
public sealed class ResNet101 : FundusClassifier
{
    private const int Width = 2048;
    private readonly Module<Tensor, Tensor> conv1, bn1, maxpool;
    private readonly Sequential layer1, layer2, layer3, layer4;
    private readonly Module<Tensor, Tensor> fc;
    private readonly List<(string Name, Sequential Stage)> _stages;

    public ResNet101(HeadKind head = HeadKind.Paper, int numClasses = 5) : base(nameof(ResNet101))
    {
        Head = head;
        NumClasses = numClasses;
        // Take torchvision's modules; the wrapper itself is dropped (disposing it would dispose them too).
        var source = torchvision.models.resnet101();
        var children = source.named_children().ToDictionary(c => c.name, c => c.module);
        conv1 = (Module<Tensor, Tensor>)children["conv1"];
        bn1 = (Module<Tensor, Tensor>)children["bn1"];
        maxpool = (Module<Tensor, Tensor>)children["maxpool"];
        layer1 = (Sequential)children["layer1"];
        layer2 = (Sequential)children["layer2"];
        layer3 = (Sequential)children["layer3"];
        layer4 = (Sequential)children["layer4"];
        fc = Heads.Create(head, Width, numClasses);
        RegisterComponents();
        _stages = [("layer1", layer1), ("layer2", layer2), ("layer3", layer3), ("layer4", layer4)];
        CamLayers = _stages.SelectMany(s => Enumerable.Range(0, s.Stage.children().Count()).Select(b => $"{s.Name}.{b}").Append(s.Name)).ToList();
    }

    public override string Architecture => "resnet101";
    public override HeadKind Head { get; }
    public override int NumClasses { get; }
    public override string HeadName => "fc";
    public override int FeatureWidth => Width;

    /// <summary>The study trained the last convolutional stage and the head of its comparison models.</summary>
    public override TrainablePolicy PaperPolicy { get; } = new("paper", ["layer4.", "fc."]);

    public override IReadOnlyList<string> CamLayers { get; }
    public override string DefaultCamLayer => "layer4";

    public override Tensor forward(Tensor input) => Classify(RunStages(Stem(input), 0, _stages.Count));

    public override (Func<Tensor, Tensor> Prefix, Func<Tensor, Tensor> Suffix) Partition(string layer)
    {
        var (stage, block) = Locate(layer);
        var blocks = _stages[stage].Stage.children().Cast<Module<Tensor, Tensor>>().ToList();
        int lastBlock = block ?? blocks.Count - 1;
        return (x =>
            {
                x = RunStages(Stem(x), 0, stage);
                for (int i = 0; i <= lastBlock; i++) x = blocks[i].call(x);
                return x;
            },
            a =>
            {
                for (int i = lastBlock + 1; i < blocks.Count; i++) a = blocks[i].call(a);
                return Classify(RunStages(a, stage + 1, _stages.Count));
            });
    }

    private (int Stage, int? Block) Locate(string layer)
    {
        string[] parts = layer.Split('.');
        int stage = _stages.FindIndex(s => s.Name == parts[0]);
        if (stage >= 0 && parts.Length == 1) return (stage, null);
        if (stage >= 0 && parts.Length == 2 && int.TryParse(parts[1], out int b) && b >= 0 && b < _stages[stage].Stage.children().Count())
            return (stage, b);
        throw new ArgumentException($"ResNet101 has no layer '{layer}'. Use layer1..layer4 or layerS.B.");
    }

    private Tensor Stem(Tensor x) => maxpool.call(functional.relu(bn1.call(conv1.call(x))));

    private Tensor RunStages(Tensor x, int from, int to)
    {
        for (int i = from; i < to; i++) x = _stages[i].Stage.call(x);
        return x;
    }

    private Tensor Classify(Tensor x) => fc.call(functional.adaptive_avg_pool2d(x, [1, 1]).flatten(1));
}
