using static TorchSharp.torch;

namespace DrWeb.Ml.Explain;

/// <summary>
/// EigenCAM (Muhammad and Yeasin, 2020): the activations projected on their first principal component, with no
/// gradient and no class. It shows what the layer responds to most, whatever the grade, which is a check on the
/// class-specific methods rather than an explanation of one grade. The channels are centred over the positions and
/// the projection is (A − mean) · v₁. The sign of a singular vector is arbitrary, and the ReLU keeps one side of the
/// map; DrWeb turns v₁ so that the projection's largest magnitude is positive (pytorch-grad-cam takes whatever sign
/// LAPACK returns). The channel weights reported are v₁.
/// </summary>
public sealed class EigenCam : CamMethod
{
    public override string Name => "eigencam";
    public override string DisplayName => "EigenCAM";
    public override string Description => "EigenCAM: the first principal component of the activations; not class-specific.";
    public override bool UsesGradients => false;

    protected override Tensor ChannelWeights(CamContext context)
    {
        var (centred, _) = Centre(context.Activations);
        // Per image: the first right-singular vector of [positions, channels].
        var rows = new List<Tensor>();
        for (long i = 0; i < centred.shape[0]; i++)
        {
            var (_, _, vt) = linalg.svd(centred[i], fullMatrices: false);
            Tensor v = vt[0];
            Tensor projection = centred[i].matmul(v);
            Tensor largest = projection[projection.abs().argmax()];
            rows.Add(largest.lt(0).item<bool>() ? v.neg() : v);
        }
        return stack(rows);
    }

    protected override Tensor Combine(CamContext context, Tensor? weights)
    {
        var (centred, shape) = Centre(context.Activations);
        return centred.matmul(weights!.unsqueeze(-1)).squeeze(-1).view(shape);
    }

    /// <summary>[N, h·w, C] with each channel centred over the positions, and the [N, h, w] shape of the map.</summary>
    private static (Tensor Centred, long[] MapShape) Centre(Tensor activations)
    {
        long n = activations.shape[0], c = activations.shape[1], h = activations.shape[2], w = activations.shape[3];
        Tensor m = activations.reshape(n, c, h * w).transpose(1, 2);
        return (m - m.mean([1], keepdim: true), [n, h, w]);
    }
}
