using static TorchSharp.torch;

namespace DrWeb.Ml.Explain;

/// <summary>LayerCAM (Jiang et al., 2021): the positive gradient times the activation at every position, summed over channels.</summary>
public sealed class LayerCam : CamMethod
{
    public override string Name => "layercam";
    public override string DisplayName => "LayerCAM";
    public override string Description => "LayerCAM: positive gradient times activation at each position; finer maps at earlier layers.";

    protected override Tensor Combine(CamContext context, Tensor? weights) =>
        nn.functional.relu(context.Gradients!).mul(context.Activations).sum(1);
}
