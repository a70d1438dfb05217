using DrWeb.Ml.Manifest;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DrWeb.Ml.Architectures;

/// <summary>
/// A forward pass cut in two at a named layer: the activation there, and the rest of the network as a function of it.
/// CAM methods differentiate only the second half, so explaining an image costs little more than grading it.
/// </summary>
/// <param name="Activation">Output of the named layer, shape [N, C, h, w].</param>
/// <param name="Rest">Computes the logits from (a possibly detached copy of) that activation.</param>
public sealed record LayerSplit(Tensor Activation, Func<Tensor, Tensor> Rest);

/// <summary>
/// An image classifier for DR grading whose parameter names match its torchvision counterpart, so that
/// <c>state_dict</c>s move between PyTorch and DrWeb unchanged.
/// </summary>
public abstract class FundusClassifier : Module<Tensor, Tensor>
{
    protected FundusClassifier(string name) : base(name) { }

    /// <summary>Short architecture name, e.g. <c>densenet121</c>.</summary>
    public abstract string Architecture { get; }

    /// <summary>The head that produces the logits.</summary>
    public abstract HeadKind Head { get; }

    public abstract int NumClasses { get; }

    /// <summary>Layers at which a CAM can be taken, in forward order.</summary>
    public abstract IReadOnlyList<string> CamLayers { get; }

    /// <summary>The layer the paper took its Grad-CAM at.</summary>
    public abstract string DefaultCamLayer { get; }

    /// <summary>Name of the head module (<c>classifier</c> in DenseNet and VGG, <c>fc</c> in ResNet).</summary>
    public abstract string HeadName { get; }

    /// <summary>What the study fine-tuned for this architecture: its last block(s) and the head.</summary>
    public abstract TrainablePolicy PaperPolicy { get; }

    /// <summary>Width of the pooled features that enter the head.</summary>
    public abstract int FeatureWidth { get; }

    /// <summary>
    /// Runs the network up to <paramref name="layer"/> and returns the rest as a function. By default the activation is
    /// what <see cref="Partition"/>'s prefix returns; DenseNet overrides it, because inside a dense block the CAM wants
    /// the layer's own output, not the concatenation the rest of the block needs.
    /// </summary>
    public virtual LayerSplit SplitAt(Tensor input, string layer)
    {
        var (prefix, suffix) = Partition(layer);
        return new LayerSplit(prefix(input), suffix);
    }

    /// <summary>
    /// The network as two functions around <paramref name="layer"/>: <c>Prefix</c> computes everything the rest
    /// needs (for a layer inside a dense block, the concatenation of all features so far), <c>Suffix</c> turns that
    /// into logits. Unlike <see cref="SplitAt"/>, the prefix's output alone is enough to continue, so it can be cached.
    /// </summary>
    public abstract (Func<Tensor, Tensor> Prefix, Func<Tensor, Tensor> Suffix) Partition(string layer);

    /// <summary>The policy last applied by <see cref="ApplyTrainablePolicy"/>; everything trains until one is applied.</summary>
    public TrainablePolicy TrainablePolicy { get; private set; } = TrainablePolicy.All;

    /// <summary>
    /// Freezes every parameter the policy does not name. Frozen BatchNorm layers are kept in eval mode by
    /// <see cref="SetTrainingMode"/>, so their running statistics never move.
    /// </summary>
    public void ApplyTrainablePolicy(TrainablePolicy policy)
    {
        var names = named_parameters().Select(p => p.name).ToList();
        policy.Validate(names);
        foreach (var (name, parameter) in named_parameters())
            parameter.requires_grad = policy.Trains(name);
        TrainablePolicy = policy;
    }

    /// <summary>
    /// Training or evaluation mode. Use this rather than <c>train()</c>: in training mode a BatchNorm layer whose
    /// parameters are frozen would still update its running statistics on every batch, silently changing the
    /// pretrained trunk the policy meant to keep fixed.
    /// </summary>
    public void SetTrainingMode(bool training)
    {
        train(training);
        if (!training) return;
        foreach (var (name, module) in named_modules())
        {
            if (module is TorchSharp.Modules.BatchNorm2d or TorchSharp.Modules.BatchNorm1d && !TrainablePolicy.Trains(name + ".weight"))
                module.eval();
        }
    }

    /// <summary>
    /// The last layer (of <see cref="CamLayers"/>) before which nothing trains, or null when the first layer already
    /// trains. Training runs the network up to it without an autograd graph, and may cache its output.
    /// </summary>
    public string? FrozenPrefixEnd()
    {
        var parameters = named_parameters().Select(p => (p.name, p.parameter.requires_grad)).ToList();
        string? boundary = null;
        string? previous = null;
        foreach (string layer in CamLayers)
        {
            int last = parameters.FindLastIndex(p => p.name.StartsWith(layer + ".", StringComparison.Ordinal));
            if (last < 0)
            {
                // A layer without parameters (ReLU, pooling) extends a frozen prefix that reaches up to it.
                if (boundary is not null && boundary == previous) boundary = layer;
            }
            else if (parameters.Take(last + 1).Any(p => p.requires_grad))
            {
                break;
            }
            else
            {
                boundary = layer;
            }
            previous = layer;
        }
        return boundary;
    }

    /// <summary>
    /// Re-initialises the head from <paramref name="seed"/> as PyTorch initialises a Linear layer (Kaiming-uniform
    /// weights, uniform biases in +-1/sqrt(fan_in)), so that a training run starts from the same head every time.
    /// </summary>
    public void InitialiseHead(int seed)
    {
        // The init functions draw from torch's global generator, so seed it (the run reseeds it anyway).
        manual_seed(seed);
        using var _ = no_grad();
        foreach (var (name, module) in named_modules())
        {
            if (module is not TorchSharp.Modules.Linear linear || !(name == HeadName || name.StartsWith(HeadName + ".", StringComparison.Ordinal)))
                continue;
            init.kaiming_uniform_(linear.weight, a: Math.Sqrt(5));
            if (linear.bias is not null)
            {
                double bound = 1 / Math.Sqrt(linear.weight.shape[1]);
                init.uniform_(linear.bias, -bound, bound);
            }
        }
    }

    /// <summary>Parameters that the current policy trains.</summary>
    public IEnumerable<Parameter> TrainableParameters() => parameters().Where(p => p.requires_grad);
}
