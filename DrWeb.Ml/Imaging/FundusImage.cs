using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Ml.Imaging;

/// <summary>A decoded photograph: upright (EXIF orientation applied), 8-bit RGB, at its original resolution.</summary>
public sealed class FundusImage : IDisposable
{
    internal FundusImage(Image<Rgb24> pixels, string format, string? name)
    {
        Pixels = pixels;
        Format = format;
        Name = name;
    }

    public Image<Rgb24> Pixels { get; }

    /// <summary>The container format it was decoded from, e.g. <c>JPEG</c>.</summary>
    public string Format { get; }

    /// <summary>File name for messages, if known.</summary>
    public string? Name { get; }

    public int Width => Pixels.Width;
    public int Height => Pixels.Height;

    public void Dispose() => Pixels.Dispose();
}
