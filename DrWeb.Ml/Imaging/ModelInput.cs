using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using static TorchSharp.torch;

namespace DrWeb.Ml.Imaging;

/// <summary>How pixel values are scaled before they enter a model.</summary>
public enum Normalisation
{
    /// <summary>RGB in [0, 1], minus a per-channel mean, divided by a per-channel std (torchvision's ImageNet models).</summary>
    MeanStd,

    /// <summary>BGR in [0, 255] minus a 224x224 mean image (the bundled CNTK ResNet18, see ResNetPreprocess.onnx).</summary>
    BgrMeanImage,
}

/// <summary>How a photograph becomes the tensor a model was trained on. Recorded with every model.</summary>
public sealed record Preprocessing(int InputSize, Normalisation Normalisation, float[] Mean, float[] Std)
{
    /// <summary>Crop to the detected fundus circle first (<see cref="FundusCrop.Prepare"/>); off by default, so a manifest that does not name it loads uncropped.</summary>
    public bool CropFundus { get; init; }

    /// <summary>Colour normalisation of the square view, applied before augmentation in training and in every inference.</summary>
    public ColourRecipe Recipe { get; init; } = ColourRecipe.None;

    /// <summary>Whether <see cref="ModelInput.View"/> changes anything before resizing and normalising.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool HasView => CropFundus || Recipe != ColourRecipe.None;

    /// <summary>torchvision's ImageNet normalisation at 224 px.</summary>
    public static readonly Preprocessing ImageNet224 =
        new(224, Normalisation.MeanStd, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>What the bundled ResNet18 graph expects.</summary>
    public static readonly Preprocessing BgrMeanImage224 = new(224, Normalisation.BgrMeanImage, [], []);
}

/// <summary>Resize and normalise photographs into model input tensors.</summary>
public static class ModelInput
{
    /// <summary>The BGR mean image [3, 224, 224] stored in the bundled ResNetPreprocess.onnx.</summary>
    private static readonly Lazy<float[]> MeanImage = new(() =>
    {
        var graph = Onnx.OnnxGraph.Load(Onnx.BundledOnnx.File(Onnx.BundledOnnx.PreprocessFileName));
        return graph.Initializers["MeanImage"].Values;
    });

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, float[]> MeanImages = new();

    /// <summary>
    /// The mean image at <paramref name="size"/> px: as stored at 224, resampled bilinearly (PyTorch's
    /// <c>align_corners=False</c>) for other input sizes, so that the bundled ResNet18 can be run and trained larger.
    /// </summary>
    public static float[] MeanImageAt(int size) => MeanImages.GetOrAdd(size, s =>
    {
        float[] stored = MeanImage.Value;
        int storedSize = (int)Math.Round(Math.Sqrt(stored.Length / 3.0));
        if (s == storedSize) return stored;
        using var scope = NewDisposeScope();
        var resized = nn.functional.interpolate(tensor(stored, [1, 3, storedSize, storedSize]), size: [s, s],
            mode: InterpolationMode.Bilinear, align_corners: false);
        return resized.contiguous().data<float>().ToArray();
    });

    /// <summary>A [3, S, S] float tensor: resized (bilinear, antialiased), scaled to [0,1], then normalised.</summary>
    public static Tensor ToTensor(FundusImage image, Preprocessing prep) => ToTensor(image.Pixels, prep);

    public static Tensor ToTensor(Image<Rgb24> source, Preprocessing prep)
    {
        using var view = Prepare(source, prep);
        return ToTensor(view, prep);
    }

    /// <summary>The tensor for a view made by <see cref="Prepare"/> with the same preprocessing.</summary>
    public static Tensor ToTensor(ModelView view, Preprocessing prep)
    {
        int size = prep.InputSize;
        var chw = new float[3 * size * size];
        Fill(view.Image, prep, chw);
        return tensor(chw, [3, size, size]);
    }

    /// <summary>
    /// The square picture the model sees before augmentation and normalisation: the fundus cropped (when the
    /// preprocessing asks for it) and the colour recipe applied, at the model's input size. Null when the preprocessing
    /// has no such step, so that older models see exactly what they were trained on. Training batches call this; inference
    /// calls <see cref="Prepare"/>, which makes the same picture.
    /// </summary>
    public static Image<Rgb24>? View(Image<Rgb24> source, Preprocessing prep) => prep.HasView ? Prepare(source, prep).Image : null;

    /// <summary>
    /// What the model receives from <paramref name="source"/>, at its input size, with a sentence on how it was made.
    /// <paramref name="location"/> reuses a fundus detection already done on the same image (the quality gate's), so a
    /// photograph is searched once; the crop is the same either way.
    /// </summary>
    public static ModelView Prepare(Image<Rgb24> source, Preprocessing prep, FundusLocation? location = null)
    {
        int size = prep.InputSize;
        if (!prep.HasView)
            return new ModelView(Resize(source, size), prep, null, ModelView.Describe(prep, null));
        // A detection made on another picture (another size) is no use here: search this one.
        if (!prep.CropFundus || (location is not null && (location.Circle.ImageWidth != source.Width || location.Circle.ImageHeight != source.Height)))
            location = null;
        Image<Rgb24> view;
        if (!prep.CropFundus)
        {
            view = source.Clone(x => x.Resize(size, size));
        }
        else if (location is not null)
        {
            view = FundusCrop.Crop(source, location.Circle, size);
        }
        else if (FundusCrop.Prepare(source, size) is { } fundus)
        {
            view = fundus.Image;
            location = fundus.Location;
        }
        else
        {
            // No fundus found: the whole frame, squared with black bars as the crop would.
            view = FundusCrop.Crop(source, FundusCircle.WholeFrame(source.Width, source.Height), size);
        }
        ColourRecipes.Apply(view, prep.Recipe);
        return new ModelView(view, prep, location, ModelView.Describe(prep, location));
    }

    private static Image<Rgb24> Resize(Image<Rgb24> source, int size) =>
        source.Width == size && source.Height == size
            ? source.Clone()
            : source.Clone(x => x.Resize(new ResizeOptions
            {
                Size = new SixLabors.ImageSharp.Size(size, size),
                Mode = ResizeMode.Stretch,
                Sampler = KnownResamplers.Triangle,
            }));

    /// <summary>
    /// Writes the [3, S, S] model input for <paramref name="source"/> into <paramref name="destination"/>. Pure managed
    /// code, so data-loading threads can prepare batches while torch computes.
    /// </summary>
    public static void Fill(Image<Rgb24> source, Preprocessing prep, Span<float> destination)
    {
        int size = prep.InputSize;
        int plane = size * size;
        if (destination.Length != 3 * plane)
            throw new ArgumentException($"Destination holds {destination.Length} values, a {size} px input needs {3 * plane}.");
        using var resized = Resize(source, size);

        var rgb = new Rgb24[plane];
        resized.CopyPixelDataTo(rgb);
        if (prep.Normalisation == Normalisation.BgrMeanImage)
        {
            float[] mean = MeanImageAt(size);
            for (int i = 0; i < plane; i++)
            {
                destination[i] = rgb[i].B - mean[i];
                destination[plane + i] = rgb[i].G - mean[plane + i];
                destination[2 * plane + i] = rgb[i].R - mean[2 * plane + i];
            }
            return;
        }
        float s0 = 1f / (255f * prep.Std[0]), s1 = 1f / (255f * prep.Std[1]), s2 = 1f / (255f * prep.Std[2]);
        float o0 = prep.Mean[0] / prep.Std[0], o1 = prep.Mean[1] / prep.Std[1], o2 = prep.Mean[2] / prep.Std[2];
        for (int i = 0; i < plane; i++)
        {
            destination[i] = rgb[i].R * s0 - o0;
            destination[plane + i] = rgb[i].G * s1 - o1;
            destination[2 * plane + i] = rgb[i].B * s2 - o2;
        }
    }

    /// <summary>Stacks several images into one [N, 3, S, S] batch.</summary>
    public static Tensor Batch(IEnumerable<FundusImage> images, Preprocessing prep)
    {
        using var scope = NewDisposeScope();
        var items = images.Select(i => ToTensor(i, prep)).ToArray();
        return stack(items).MoveToOuterDisposeScope();
    }
}
