using static TorchSharp.torch;

namespace DrWeb.Ml.Explain;

/// <summary>What a CAM method may combine, for N images at one layer.</summary>
public sealed class CamContext
{
    /// <summary>The layer's activations A, [N, C, h, w].</summary>
    public required Tensor Activations { get; init; }

    /// <summary>dScore/dA, [N, C, h, w]; null for methods that do not use gradients.</summary>
    public Tensor? Gradients { get; init; }

    /// <summary>The images, [N, 3, H, W]; for methods that run the model on altered copies (Score-CAM).</summary>
    public Tensor? Input { get; init; }

    /// <summary>The target score of a batch of altered copies of image n ([B, 3, H, W] to [B]).</summary>
    public Func<Tensor, int, Tensor>? TargetScore { get; init; }
}
