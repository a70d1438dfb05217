using static TorchSharp.torch;

namespace DrWeb.Ml.Explain;

/// <summary>
/// XGrad-CAM (Fu et al., 2020): a channel's weight is Σ_hw (g · A) / (Σ_hw A + 1e-7). A channel whose activations
/// nearly cancel makes the weight ill-conditioned; the map can then be dominated by that one channel.
/// </summary>
public sealed class XGradCam : CamMethod
{
    public override string Name => "xgradcam";
    public override string DisplayName => "XGrad-CAM";
    public override string Description => "XGrad-CAM: gradients weighted by the activations, normalised per channel.";

    protected override Tensor ChannelWeights(CamContext context)
    {
        Tensor a = context.Activations;
        return context.Gradients!.mul(a).sum([2, 3]).div(a.sum([2, 3]).add(1e-7));
    }
}
