using System.Numerics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DrWeb.Ml.Data;

/// <summary>
/// The study's augmentations, each with its parameter. Defaults follow torchvision's usual settings; set
/// <see cref="Enabled"/> to false for evaluation or feature caching.
/// </summary>
public sealed record AugmentationOptions
{
    public bool Enabled { get; init; } = true;

    /// <summary>Rotation drawn uniformly from [-d, d] degrees. A fundus has no canonical "up".</summary>
    public float RotationDegrees { get; init; } = 30f;

    public float HorizontalFlipProbability { get; init; } = 0.5f;
    public float VerticalFlipProbability { get; init; } = 0.5f;

    /// <summary>Shift drawn uniformly from [-t, t] of the width and of the height.</summary>
    public float TranslateFraction { get; init; } = 0.05f;

    public float GrayscaleProbability { get; init; } = 0.1f;

    /// <summary>Colour jitter factors drawn uniformly from [1 - j, 1 + j]; hue shift from [-h, h] of the hue circle.</summary>
    public float Brightness { get; init; } = 0.2f;
    public float Contrast { get; init; } = 0.2f;
    public float Saturation { get; init; } = 0.2f;
    public float Hue { get; init; } = 0.02f;

    public static readonly AugmentationOptions None = new() { Enabled = false };

    /// <summary>What is out of range, in words (for <see cref="Manifest.TrainingOptions.Validate"/>); empty when all is well.</summary>
    public IEnumerable<string> Problems()
    {
        if (!Enabled) yield break;
        foreach (var (value, name) in new[] { (HorizontalFlipProbability, "horizontal flip"), (VerticalFlipProbability, "vertical flip"), (GrayscaleProbability, "grayscale") })
            if (value is < 0 or > 1) yield return $"the {name} probability must be between 0 and 1";
        if (RotationDegrees is < 0 or > 180) yield return "rotation must be 0 to 180 degrees";
        if (TranslateFraction is < 0 or > 0.5f) yield return "translation must be 0 to 0.5 of the image";
        foreach (var (value, name) in new[] { (Brightness, "brightness"), (Contrast, "contrast"), (Saturation, "saturation") })
            if (value is < 0 or > 1) yield return $"the {name} jitter must be between 0 and 1";
        if (Hue is < 0 or > 0.5f) yield return "the hue jitter must be between 0 and 0.5";
    }
}

/// <summary>
/// Applies random augmentations to a photograph. The draw for image <c>i</c> of epoch <c>e</c> depends only on
/// (seed, e, i), so it is the same on any thread, in any order, and after a resume.
/// </summary>
public static class FundusAugmentation
{
    public static Image<Rgb24> Apply(Image<Rgb24> source, AugmentationOptions o, int seed, int epoch, int index)
    {
        var image = source.Clone();
        if (!o.Enabled) return image;
        var rng = new Random(Seeds.Mix(seed, epoch, index));
        bool hflip = rng.NextDouble() < o.HorizontalFlipProbability;
        bool vflip = rng.NextDouble() < o.VerticalFlipProbability;
        float angle = Uniform(rng, o.RotationDegrees);
        float dx = Uniform(rng, o.TranslateFraction) * source.Width, dy = Uniform(rng, o.TranslateFraction) * source.Height;
        float brightness = 1 + Uniform(rng, o.Brightness), contrast = 1 + Uniform(rng, o.Contrast);
        float saturation = 1 + Uniform(rng, o.Saturation), hue = Uniform(rng, o.Hue) * 360f;
        bool gray = rng.NextDouble() < o.GrayscaleProbability;

        if (hflip) FlipHorizontal(image);
        if (vflip) FlipVertical(image);
        if (angle != 0 || dx != 0 || dy != 0) RotateAndTranslate(image, angle, dx, dy);
        image.Mutate(x =>
        {
            if (o.Brightness > 0) x.Brightness(brightness);
            if (o.Contrast > 0) x.Contrast(contrast);
            if (o.Saturation > 0) x.Saturate(saturation);
            if (o.Hue > 0) x.Hue(hue);
            if (gray) x.Grayscale();
        });
        return image;
    }

    public static void FlipHorizontal(Image<Rgb24> image) => image.Mutate(x => x.Flip(FlipMode.Horizontal));

    public static void FlipVertical(Image<Rgb24> image) => image.Mutate(x => x.Flip(FlipMode.Vertical));

    /// <summary>
    /// Rotates about the centre (positive = clockwise on screen) and shifts by (dx, dy) pixels, keeping the frame
    /// size; uncovered corners become black, like the background of a fundus photograph.
    /// </summary>
    public static void RotateAndTranslate(Image<Rgb24> image, float degrees, float dx, float dy)
    {
        var bounds = new Rectangle(0, 0, image.Width, image.Height);
        var centre = new Vector2(image.Width / 2f, image.Height / 2f);
        var matrix = Matrix3x2.CreateRotation(degrees * MathF.PI / 180f, centre) * Matrix3x2.CreateTranslation(dx, dy);
        image.Mutate(x => x.Transform(bounds, matrix, image.Size(), KnownResamplers.Triangle));
    }

    private static float Uniform(Random rng, float halfWidth) => halfWidth <= 0 ? 0 : (float)((rng.NextDouble() * 2 - 1) * halfWidth);
}
