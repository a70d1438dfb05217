using DrWeb.Ml.Architectures;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DrWeb.Ml.Explain;

/// <summary>
/// Class activation maps from the gradient of a class score with respect to a layer's activations. Subclasses only
/// say how the channel weights are computed; everything else (the split forward, ReLU, upsampling) is shared.
/// </summary>
public abstract class CamMethod
{
    public abstract string Name { get; }

    /// <summary>Weights of shape [N, C] from activations and gradients, both [N, C, h, w].</summary>
    protected abstract Tensor ChannelWeights(Tensor activations, Tensor gradients);

    /// <summary>
    /// Explains each image of <paramref name="input"/> ([N, 3, H, W], on the model's device).
    /// </summary>
    /// <param name="layer">A name from <see cref="FundusClassifier.CamLayers"/>; null for the model's default.</param>
    /// <param name="targetClasses">Class per image to explain; null explains each image's predicted class.</param>
    public IReadOnlyList<CamResult> Compute(FundusClassifier model, Tensor input, string? layer = null, int[]? targetClasses = null)
    {
        layer ??= model.DefaultCamLayer;
        if (model.training)
            throw new InvalidOperationException("CAM needs the model in eval mode: a forward pass in training mode would update BatchNorm statistics.");
        long n = input.shape[0];
        if (targetClasses is not null && targetClasses.Length != n)
            throw new ArgumentException($"{targetClasses.Length} target classes for {n} images.");
        if (model is EnsembleClassifier ensemble)
            return ComputeForEnsemble(ensemble, input, layer, targetClasses);

        using var scope = NewDisposeScope();
        LayerSplit split;
        using (no_grad())
            split = model.SplitAt(input, layer);

        // Only the part of the network after the layer is differentiated, and only with respect to its activation:
        // no gradient reaches the input image or the parameters.
        using var gradMode = enable_grad();
        Tensor activation = split.Activation.detach().requires_grad_(true);
        Tensor logits = split.Rest(activation);
        Tensor targets = targetClasses is null
            ? logits.argmax(1)
            : tensor(targetClasses.Select(c => (long)c).ToArray(), device: logits.device);
        Tensor score = logits.gather(1, targets.unsqueeze(1)).sum();
        Tensor gradients = autograd.grad([score], [activation])[0];

        using (no_grad())
        {
            Tensor weights = ChannelWeights(activation.detach(), gradients);
            Tensor raw = functional.relu((weights.unsqueeze(-1).unsqueeze(-1) * activation.detach()).sum(1));
            Tensor up = functional.interpolate(raw.unsqueeze(1), size: [input.shape[2], input.shape[3]],
                mode: InterpolationMode.Bilinear, align_corners: false).squeeze(1);
            Tensor flat = up.flatten(1);
            Tensor min = flat.min(1, keepdim: true).values, max = flat.max(1, keepdim: true).values;
            Tensor range = max - min;
            Tensor norm = ((flat - min) / range.clamp_min(1e-12)).where(range > 1e-12, zeros_like(flat)).view_as(up);

            var cpuLogits = logits.detach().cpu();
            var cpuWeights = weights.cpu();
            var cpuRaw = raw.cpu();
            var cpuNorm = norm.cpu();
            var cpuTargets = targets.cpu();
            int h = (int)raw.shape[1], w = (int)raw.shape[2], H = (int)up.shape[1], W = (int)up.shape[2];
            var results = new List<CamResult>((int)n);
            for (int i = 0; i < n; i++)
            {
                results.Add(new CamResult(
                    layer,
                    (int)cpuTargets[i].item<long>(),
                    cpuLogits[i].data<float>().ToArray(),
                    cpuWeights[i].data<float>().ToArray(),
                    new HeatMap(h, w, cpuRaw[i].contiguous().data<float>().ToArray()),
                    new HeatMap(H, W, cpuNorm[i].contiguous().data<float>().ToArray())));
            }
            return results;
        }
    }

    /// <summary>
    /// An ensemble's map: each member explains the class the ensemble predicts (or the one asked for), and the maps
    /// are averaged, raw and normalised (the normalised average is normalised again, so it spans [0, 1] like any map).
    /// The logits are the ensemble's; the channel weights are the members' one after another.
    /// </summary>
    private IReadOnlyList<CamResult> ComputeForEnsemble(EnsembleClassifier ensemble, Tensor input, string layer, int[]? targetClasses)
    {
        if (targetClasses is null)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            targetClasses = ensemble.call(input).argmax(1).cpu().data<long>().Select(c => (int)c).ToArray();
        }
        var perMember = ensemble.Members.Select(m => Compute(m, input, layer, targetClasses)).ToList();
        var results = new List<CamResult>(targetClasses.Length);
        for (int i = 0; i < targetClasses.Length; i++)
        {
            var maps = perMember.Select(m => m[i]).ToList();
            var raw = HeatMap.Average(maps.Select(m => m.Raw).ToList());
            var map = HeatMap.Average(maps.Select(m => m.Map).ToList()).Normalised();
            results.Add(new CamResult(layer, targetClasses[i], EnsembleClassifier.CombineLogits(maps.Select(m => m.Logits).ToList()),
                maps.SelectMany(m => m.ChannelWeights).ToArray(), raw, map));
        }
        return results;
    }

    public static CamMethod Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "gradcam" or "grad-cam" => new GradCam(),
        _ => throw new ArgumentException($"Unknown CAM method '{name}'. Available: gradcam."),
    };
}

/// <summary>Grad-CAM (Selvaraju et al., 2017): a channel's weight is its spatially averaged gradient.</summary>
public sealed class GradCam : CamMethod
{
    public override string Name => "gradcam";

    protected override Tensor ChannelWeights(Tensor activations, Tensor gradients) => gradients.mean([2, 3]);
}
