namespace DrWeb.Ml.Manifest;

/// <summary>What replaces the backbone's ImageNet classifier.</summary>
public enum HeadKind
{
    /// <summary>
    /// The study's head: seven Linear layers 1024-512-256-128-64-32-16-5 (from the backbone's width), with no
    /// activation between them. Mathematically it is one affine map, but it trains differently, and it is what the
    /// paper used.
    /// </summary>
    Paper,

    /// <summary>A single Linear layer, as torchvision's own classifier.</summary>
    Linear,
}
