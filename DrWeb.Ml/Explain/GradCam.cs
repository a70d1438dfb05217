using static TorchSharp.torch;

namespace DrWeb.Ml.Explain;

/// <summary>Grad-CAM (Selvaraju et al., 2017): a channel's weight is its gradient averaged over the positions.</summary>
public sealed class GradCam : CamMethod
{
    public override string Name => "gradcam";
    public override string DisplayName => "Grad-CAM";
    public override string Description => "Grad-CAM: channels weighted by their mean gradient (the paper's method).";

    protected override Tensor ChannelWeights(CamContext context) => context.Gradients!.mean([2, 3]);
}
