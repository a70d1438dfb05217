using DrWeb.Ml.Architectures;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DrWeb.Ml.Explain;

/// <summary>
/// Class activation maps at one layer of a model, in the shape of pytorch-grad-cam: this base class runs the split
/// forward pass, differentiates the target's score with respect to the layer's activations, and turns the method's
/// map into a ReLU'd, upsampled, normalised heatmap. A method only says how it combines activations and gradients:
/// by channel weights (<see cref="ChannelWeights"/>, summed over channels by default) or by its own
/// <see cref="Combine(CamContext, Tensor?)"/>. Methods are found by name in <see cref="CamMethods"/>.
/// </summary>
public abstract class CamMethod
{
    /// <summary>The method's name everywhere: the command line, the API, the pages.</summary>
    public abstract string Name { get; }

    /// <summary>The method's name as its authors write it (Grad-CAM, Score-CAM, ...).</summary>
    public abstract string DisplayName { get; }

    /// <summary>A line for people choosing a method.</summary>
    public abstract string Description { get; }

    /// <summary>Whether the method runs the model many times per image, so that a user should be warned before starting it.</summary>
    public virtual bool RunsModelPerChannel => false;

    /// <summary>Whether the method needs dScore/dA (EigenCAM and Score-CAM do not).</summary>
    public virtual bool UsesGradients => true;

    /// <summary>Per-channel weights [N, C], or null for a method that weighs positions rather than channels.</summary>
    protected virtual Tensor? ChannelWeights(CamContext context) => null;

    /// <summary>The map before ReLU, [N, h, w]: by default Σ_c w_c A_c.</summary>
    protected virtual Tensor Combine(CamContext context, Tensor? weights) =>
        (weights ?? throw new InvalidOperationException($"{Name} has neither channel weights nor its own combination."))
            .unsqueeze(-1).unsqueeze(-1).mul(context.Activations).sum(1);

    /// <summary>The method's map before ReLU and its channel weights (null when it has none), from a layer's activations and gradients.</summary>
    public (Tensor PreRelu, Tensor? Weights) Apply(CamContext context)
    {
        if (UsesGradients && context.Gradients is null)
            throw new ArgumentException($"{Name} needs the gradients of the target's score.", nameof(context));
        var weights = ChannelWeights(context);
        return (Combine(context, weights), weights);
    }

    /// <summary>Explains each image of <paramref name="input"/> ([N, 3, H, W], on the model's device).</summary>
    /// <param name="layer">A name from <see cref="FundusClassifier.CamLayers"/>; null for the model's default.</param>
    /// <param name="targetClasses">Class per image to explain; null explains each image's predicted class.</param>
    public IReadOnlyList<CamResult> Compute(FundusClassifier model, Tensor input, string? layer = null, int[]? targetClasses = null) =>
        Compute(model, input, layer, CamTarget.Predicted, targetClasses);

    /// <summary>Explains each image of <paramref name="input"/> for <paramref name="target"/>.</summary>
    /// <param name="targetClasses">With a grade target: the class per image (overrides the target's grade).</param>
    public IReadOnlyList<CamResult> Compute(FundusClassifier model, Tensor input, string? layer, CamTarget target, int[]? targetClasses = null)
    {
        layer ??= model.DefaultCamLayer;
        if (model.training)
            throw new InvalidOperationException("CAM needs the model in eval mode: a forward pass in training mode would update BatchNorm statistics.");
        long n = input.shape[0];
        if (targetClasses is not null && targetClasses.Length != n)
            throw new ArgumentException($"{targetClasses.Length} target classes for {n} images.");
        if (target.Grade is { } grade && targetClasses is null)
            targetClasses = Enumerable.Repeat(grade, (int)n).ToArray();
        if (model is EnsembleClassifier ensemble)
            return ComputeForEnsemble(ensemble, input, layer, target, targetClasses);

        using var scope = NewDisposeScope();
        LayerSplit split;
        using (no_grad())
            split = model.SplitAt(input, layer);

        // Only the part of the network after the layer is differentiated, and only with respect to its activation:
        // no gradient reaches the input image or the parameters.
        Tensor activation = split.Activation.detach();
        Tensor logits, classes, gradients = null!;
        using (enable_grad())
        {
            Tensor tracked = activation.requires_grad_(UsesGradients);
            logits = split.Rest(tracked);
            classes = targetClasses is null
                ? logits.argmax(1)
                : tensor(targetClasses.Select(c => (long)c).ToArray(), device: logits.device);
            if (UsesGradients)
                gradients = autograd.grad([target.Score(logits, classes).sum()], [tracked])[0];
        }

        using (no_grad())
        {
            var context = new CamContext
            {
                Activations = activation.detach(), Gradients = UsesGradients ? gradients : null, Input = input,
                TargetScore = (batch, i) => target.Score(model.call(batch), classes[i].expand(batch.shape[0])),
            };
            var (preRelu, weights) = Apply(context);
            var (raw, norm) = ToMaps(preRelu, input.shape[2], input.shape[3]);

            var cpuLogits = logits.detach().cpu();
            var cpuWeights = weights?.cpu();
            var cpuRaw = raw.cpu();
            var cpuNorm = norm.cpu();
            var cpuClasses = classes.cpu();
            int h = (int)raw.shape[1], w = (int)raw.shape[2], H = (int)norm.shape[1], W = (int)norm.shape[2];
            var results = new List<CamResult>((int)n);
            for (int i = 0; i < n; i++)
            {
                results.Add(new CamResult(
                    layer,
                    target.IsReferable ? CamResult.ReferableTarget : (int)cpuClasses[i].item<long>(),
                    cpuLogits[i].data<float>().ToArray(),
                    cpuWeights is null ? [] : cpuWeights[i].data<float>().ToArray(),
                    new HeatMap(h, w, cpuRaw[i].contiguous().data<float>().ToArray()),
                    new HeatMap(H, W, cpuNorm[i].contiguous().data<float>().ToArray()))
                { Method = Name });
            }
            return results;
        }
    }

    /// <summary>
    /// The heatmaps of a method's maps before ReLU ([N, h, w]): the ReLU'd map, and that map upsampled bilinearly
    /// (align_corners=False) to [N, <paramref name="height"/>, <paramref name="width"/>] and min-max normalised to [0, 1].
    /// </summary>
    public static (Tensor Raw, Tensor Map) ToMaps(Tensor preRelu, long height, long width)
    {
        Tensor raw = functional.relu(preRelu);
        Tensor up = functional.interpolate(raw.unsqueeze(1), size: [height, width], mode: InterpolationMode.Bilinear, align_corners: false).squeeze(1);
        return (raw, Normalise(up));
    }

    /// <summary>Min-max normalisation of each map of [N, H, W] to [0, 1]; a flat map becomes all zeros.</summary>
    private static Tensor Normalise(Tensor up)
    {
        Tensor flat = up.flatten(1);
        Tensor min = flat.min(1, keepdim: true).values, max = flat.max(1, keepdim: true).values;
        Tensor range = max - min;
        return ((flat - min) / range.clamp_min(1e-12)).where(range > 1e-12, zeros_like(flat)).view_as(up);
    }

    /// <summary>
    /// An ensemble's map: each member explains the class the ensemble predicts (or the one asked for), and the maps
    /// are averaged, raw and normalised (the normalised average is normalised again, so it spans [0, 1] like any map).
    /// The logits are the ensemble's; the channel weights are the members' one after another.
    /// </summary>
    private IReadOnlyList<CamResult> ComputeForEnsemble(EnsembleClassifier ensemble, Tensor input, string layer, CamTarget target, int[]? targetClasses)
    {
        if (targetClasses is null)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            targetClasses = ensemble.call(input).argmax(1).cpu().data<long>().Select(c => (int)c).ToArray();
        }
        var perMember = ensemble.Members.Select(m => Compute(m, input, layer, target, targetClasses)).ToList();
        var results = new List<CamResult>(targetClasses.Length);
        for (int i = 0; i < targetClasses.Length; i++)
        {
            var maps = perMember.Select(m => m[i]).ToList();
            var raw = HeatMap.Average(maps.Select(m => m.Raw).ToList());
            var map = HeatMap.Average(maps.Select(m => m.Map).ToList()).Normalised();
            results.Add(new CamResult(layer, target.IsReferable ? CamResult.ReferableTarget : targetClasses[i],
                EnsembleClassifier.CombineLogits(maps.Select(m => m.Logits).ToList()),
                maps.SelectMany(m => m.ChannelWeights).ToArray(), raw, map) { Method = Name });
        }
        return results;
    }

    /// <summary>The method called <paramref name="name"/>; see <see cref="CamMethods"/>.</summary>
    public static CamMethod Parse(string name) => CamMethods.Parse(name);
}
