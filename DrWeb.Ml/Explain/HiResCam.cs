using static TorchSharp.torch;

namespace DrWeb.Ml.Explain;

/// <summary>
/// HiResCAM (Draelos and Carin, 2020): gradient times activation at every position, summed over channels. Unlike
/// Grad-CAM it does not average the gradient away, so the map shows where the score changes.
/// </summary>
public sealed class HiResCam : CamMethod
{
    public override string Name => "hirescam";
    public override string DisplayName => "HiResCAM";
    public override string Description => "HiResCAM: gradient times activation at each position, summed over channels.";

    protected override Tensor Combine(CamContext context, Tensor? weights) => context.Gradients!.mul(context.Activations).sum(1);
}
