namespace DrWeb.Ml.Explain;

/// <summary>A class activation map for one image.</summary>
/// <param name="Layer">The layer whose activations were combined.</param>
/// <param name="TargetClass">The grade explained, or <see cref="ReferableTarget"/> for P(referable).</param>
/// <param name="Logits">The model's logits for the image.</param>
/// <param name="ChannelWeights">One weight per channel of <paramref name="Layer"/>; empty for methods that weigh positions.</param>
/// <param name="Raw">ReLU of the method's map at the layer's resolution, not normalised.</param>
/// <param name="Map">Raw upsampled bilinearly to the input size and min-max normalised to [0, 1].</param>
public sealed record CamResult(string Layer, int TargetClass, float[] Logits, float[] ChannelWeights, HeatMap Raw, HeatMap Map)
{
    /// <summary>The <see cref="TargetClass"/> of a map of P(referable).</summary>
    public const int ReferableTarget = -1;

    /// <summary>The CAM method's name.</summary>
    public string Method { get; init; } = "gradcam";

    public bool ExplainsReferable => TargetClass == ReferableTarget;
}
