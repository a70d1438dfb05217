using System.Globalization;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Ml.Imaging;

/// <summary>
/// The square picture a model receives, at its input size, before augmentation and normalisation: the fundus crop
/// and colour recipe when the model was trained with them, otherwise the whole photograph stretched to the input size.
/// Shown to doctors and educators next to the original, so they can see what the model looked at.
/// </summary>
public sealed class ModelView(Image<Rgb24> image, Preprocessing preprocessing, FundusLocation? fieldOfView, string description)
    : IDisposable
{
    public Image<Rgb24> Image { get; } = image;

    /// <summary>The preprocessing this view was made with; a grader refuses a view made for another model.</summary>
    public Preprocessing Preprocessing { get; } = preprocessing;

    /// <summary>Whether this view is what <paramref name="other"/> would make (same size, crop and colour recipe).</summary>
    public bool MadeFor(Preprocessing other) =>
        other.InputSize == Preprocessing.InputSize && other.CropFundus == Preprocessing.CropFundus && other.Recipe == Preprocessing.Recipe;

    /// <summary>
    /// True when the model's own preparation (crop and/or colour recipe) made this picture, so heatmaps belong on it;
    /// false when it is only the photograph resized, where a heatmap reads better on the original.
    /// </summary>
    public bool Prepared => Preprocessing.HasView;

    /// <summary>The circle cropped to, in the original's pixels; null when the model does not crop or no fundus was found.</summary>
    public FundusLocation? FieldOfView { get; } = fieldOfView;

    /// <summary>One sentence on how this picture was made from the photograph.</summary>
    public string Description { get; } = description;

    /// <summary>
    /// Where a heatmap belongs: on this view when the model's preparation made it (the crop's geometry differs from
    /// the photograph's), otherwise on the full-resolution original, where the whole frame maps back exactly.
    /// </summary>
    public Image<Rgb24> HeatmapBase(Image<Rgb24> original) => Prepared ? Image : original;

    /// <summary>The view as a PNG, lossless, since it is the very picture the model was given.</summary>
    public byte[] ToPng()
    {
        using var ms = new MemoryStream();
        Image.Save(ms, new SixLabors.ImageSharp.Formats.Png.PngEncoder());
        return ms.ToArray();
    }

    public void Dispose() => Image.Dispose();

    internal static string Describe(Preprocessing prep, FundusLocation? location)
    {
        var c = CultureInfo.InvariantCulture;
        string size = $"{prep.InputSize} x {prep.InputSize} px";
        string recipe = prep.Recipe == ColourRecipe.None ? "no colour recipe" : $"colour recipe {prep.Recipe.ToString().ToLowerInvariant()}";
        if (!prep.HasView)
            return $"The whole photograph stretched to {size}; this model does not crop the fundus or normalise its colour.";
        if (!prep.CropFundus)
            return $"The whole photograph resized to {size}, {recipe}.";
        if (location is not { } found)
            return $"No fundus circle was found, so the whole frame was squared with black bars; {recipe}, {size}.";
        if (found.AlreadyCropped)
            return $"Already a fundus crop, so framed as it is; {recipe}, {size}.";
        var circle = found.Circle;
        return string.Create(c, $"Fundus cropped to the circle {circle.Diameter:0} px across centred at ({circle.CenterX:0}, {circle.CenterY:0}), {recipe}, {size}.");
    }
}
