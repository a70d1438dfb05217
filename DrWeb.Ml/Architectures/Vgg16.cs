using DrWeb.Ml.Manifest;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DrWeb.Ml.Architectures;

/// <summary>
/// torchvision's VGG16 (TorchVision 0.107), one of the study's comparison models. <c>features</c> keeps torchvision's
/// indices (features.0 ... features.30), so ImageNet checkpoints load unchanged; <c>classifier</c> is replaced by the
/// chosen head from the 512x7x7 = 25088 pooled features, as the head replaces DenseNet121's classifier.
/// </summary>
public sealed class Vgg16 : FundusClassifier
{
    private const int Width = 512 * 7 * 7;
    private readonly Sequential features;
    private readonly Module<Tensor, Tensor> classifier;
    private readonly List<Module<Tensor, Tensor>> _layers;

    public Vgg16(HeadKind head = HeadKind.Paper, int numClasses = 5) : base(nameof(Vgg16))
    {
        Head = head;
        NumClasses = numClasses;
        // Take torchvision's feature modules; the wrapper itself is dropped (disposing it would dispose them too).
        var source = torchvision.models.vgg16();
        features = (Sequential)source.named_children().First(c => c.name == "features").module;
        classifier = Heads.Create(head, Width, numClasses);
        RegisterComponents();
        _layers = features.children().Cast<Module<Tensor, Tensor>>().ToList();
        CamLayers = Enumerable.Range(0, _layers.Count).Select(i => $"features.{i}").ToList();
    }

    public override string Architecture => "vgg16";
    public override HeadKind Head { get; }
    public override int NumClasses { get; }
    public override string HeadName => "classifier";
    public override int FeatureWidth => Width;

    /// <summary>The last convolutional block (conv5_1..conv5_3 at features.24, 26, 28) and the head.</summary>
    public override TrainablePolicy PaperPolicy { get; } = new("paper", ["features.24.", "features.26.", "features.28.", "classifier."]);

    public override IReadOnlyList<string> CamLayers { get; }

    /// <summary>The ReLU after conv5_3, before the last max-pool: the usual Grad-CAM layer for VGG.</summary>
    public override string DefaultCamLayer => "features.29";

    public override Tensor forward(Tensor input) => Classify(Run(input, 0, _layers.Count));

    public override (Func<Tensor, Tensor> Prefix, Func<Tensor, Tensor> Suffix) Partition(string layer)
    {
        int index = CamLayers.ToList().IndexOf(layer);
        if (index < 0) throw new ArgumentException($"VGG16 has no layer '{layer}'. Use features.0 .. features.30.");
        return (x => Run(x, 0, index + 1), a => Classify(Run(a, index + 1, _layers.Count)));
    }

    private Tensor Run(Tensor x, int from, int to)
    {
        for (int i = from; i < to; i++) x = _layers[i].call(x);
        return x;
    }

    private Tensor Classify(Tensor x) => classifier.call(functional.adaptive_avg_pool2d(x, [7, 7]).flatten(1));
}
