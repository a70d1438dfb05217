using DrWeb.Ml.Explain;
using static TorchSharp.torch;

namespace DrWeb.Ml.Evaluation;

/// <summary>
/// The baseline an explanation study compares every method with: a map of uniform random values at the layer's
/// resolution, upsampled like a CAM, so it is as smooth as one and knows nothing. A method that does no better than it
/// on deletion, insertion, ROAD or lesion agreement has not shown that it explains anything. It has a seed, so it is not
/// one of the selectable <see cref="CamMethods"/> (those are made without arguments).
/// </summary>
public sealed class RandomMapBaseline(int seed) : CamMethod
{
    public const string BaselineName = "random";

    private readonly Generator _generator = new((ulong)seed);

    public override string Name => BaselineName;
    public override string DisplayName => "Random map (baseline)";
    public override string Description => "Uniform noise at the layer's resolution: what any method must beat.";
    public override bool UsesGradients => false;

    protected override Tensor Combine(CamContext context, Tensor? weights)
    {
        var a = context.Activations;
        return rand([a.shape[0], a.shape[2], a.shape[3]], generator: _generator).to(a.device);
    }
}
