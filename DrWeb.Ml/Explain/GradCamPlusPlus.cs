using static TorchSharp.torch;

namespace DrWeb.Ml.Explain;

/// <summary>
/// Grad-CAM++ (Chattopadhay et al., 2018), as pytorch-grad-cam computes it: α = g² / (2g² + Σ_hw A · g³ + 1e-6)
/// (0 where the gradient is 0), and a channel's weight is Σ_hw relu(g) · α. With this model's tiny gradients the eps
/// dominates the denominator, so the eps is part of the definition.
/// </summary>
public sealed class GradCamPlusPlus : CamMethod
{
    public override string Name => "gradcampp";
    public override string DisplayName => "Grad-CAM++";
    public override string Description => "Grad-CAM++: positive gradients weighted by higher-order terms; several regions of one class.";

    protected override Tensor ChannelWeights(CamContext context)
    {
        Tensor g = context.Gradients!, a = context.Activations;
        Tensor g2 = g.pow(2), g3 = g2.mul(g);
        Tensor sumA = a.sum([2, 3], keepdim: true);
        Tensor alpha = g2.div(g2.mul(2).add(sumA.mul(g3)).add(1e-6));
        alpha = alpha.where(g.ne(0), zeros_like(alpha));
        return nn.functional.relu(g).mul(alpha).sum([2, 3]);
    }
}
