namespace DrWeb.Ml.Explain;

/// <summary>A class activation map for one image.</summary>
/// <param name="Layer">The layer whose activations were weighted.</param>
/// <param name="TargetClass">The class explained.</param>
/// <param name="Logits">The model's logits for the image.</param>
/// <param name="ChannelWeights">One weight per channel of <paramref name="Layer"/>.</param>
/// <param name="Raw">ReLU of the weighted channel sum at the layer's resolution, not normalised.</param>
/// <param name="Map">Raw upsampled bilinearly to the input size and min-max normalised to [0, 1].</param>
public sealed record CamResult(string Layer, int TargetClass, float[] Logits, float[] ChannelWeights, HeatMap Raw, HeatMap Map);
