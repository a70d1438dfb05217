using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Processing;

namespace DrWeb.Server.Platform;

/// <summary>
/// Screen-sized copies of stored images as data URLs. Pages show images through the signed-in circuit rather than a
/// public URL, and a 16-megapixel original would be far too large to send as it is.
/// </summary>
public sealed class DisplayImages(IImageStore store)
{
    public const int DefaultMaxSide = 768;

    public string DataUrl(string hash, int maxSide = DefaultMaxSide)
    {
        var (bytes, contentType) = ForDisplay(hash, maxSide);
        return $"data:{contentType};base64,{Convert.ToBase64String(bytes)}";
    }

    /// <summary>A JPEG of the stored image no larger than <paramref name="maxSide"/> pixels on its longer side.</summary>
    public byte[] Jpeg(string hash, int maxSide = DefaultMaxSide)
    {
        using var image = Image.Load(store.Read(hash));
        return Jpeg(image, maxSide);
    }

    /// <summary>
    /// Small PNGs (the model's 224 px view, its overlays) are sent as stored, so what is shown is exactly what the model
    /// was given; anything larger becomes a screen-sized JPEG.
    /// </summary>
    public (byte[] Bytes, string ContentType) ForDisplay(string hash, int maxSide = DefaultMaxSide)
    {
        byte[] stored = store.Read(hash);
        var info = Image.Identify(stored);
        if (Math.Max(info.Width, info.Height) <= maxSide && Image.DetectFormat(stored) is PngFormat)
            return (stored, "image/png");
        using var image = Image.Load(stored);
        return (Jpeg(image, maxSide), "image/jpeg");
    }

    private static byte[] Jpeg(Image image, int maxSide)
    {
        if (Math.Max(image.Width, image.Height) > maxSide)
            image.Mutate(x => x.Resize(new ResizeOptions { Size = new Size(maxSide, maxSide), Mode = ResizeMode.Max }));
        using var ms = new MemoryStream();
        image.Save(ms, new JpegEncoder { Quality = 90 });
        return ms.ToArray();
    }
}
