using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DrWeb.Ml.Imaging;

public sealed class ImageDecodeOptions
{
    /// <summary>Largest accepted width x height. The header is read first, so a decompression bomb is never decoded.</summary>
    public long MaxPixels { get; set; } = 50_000_000;

    /// <summary>
    /// Smallest accepted side. The model looks at 224 px and the fundus detector at a 256 px copy; a picture a few
    /// pixels high or wide is not a photograph of a retina.
    /// </summary>
    public int MinSide { get; set; } = 32;

    /// <summary>Largest accepted ratio of the long side to the short side (fundus cameras give 1:1 to about 16:9).</summary>
    public double MaxAspectRatio { get; set; } = 4;
}

/// <summary>
/// Turns untrusted bytes into a <see cref="FundusImage"/>, or an <see cref="ImageRejectedException"/> that says why not.
/// Accepts JPEG, PNG, BMP, TIFF and WebP.
/// </summary>
public sealed class ImageDecoder(ImageDecodeOptions? options = null)
{
    public static readonly IReadOnlyList<string> AcceptedFormats = ["JPEG", "PNG", "BMP", "TIFF", "WebP"];

    private static readonly Configuration Accepted = new(
        new JpegConfigurationModule(), new PngConfigurationModule(), new BmpConfigurationModule(),
        new TiffConfigurationModule(), new WebpConfigurationModule());

    private readonly ImageDecodeOptions _options = options ?? new ImageDecodeOptions();

    public FundusImage Decode(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new ImageRejectedException(ImageProblem.NotAnImage, $"{path}: no such file.");
        }
        return Decode(bytes, Path.GetFileName(path));
    }

    public FundusImage Decode(byte[] bytes, string? name = null)
    {
        string label = string.IsNullOrEmpty(name) ? "The file" : $"'{name}'";
        string accepted = string.Join(", ", AcceptedFormats);
        if (bytes.Length == 0)
            throw new ImageRejectedException(ImageProblem.Empty, $"{label} is empty (0 bytes). Upload the photograph again.");

        IImageFormat? format = Image.DetectFormat(Accepted, bytes.AsSpan());
        if (format is null)
        {
            string? other = Image.DetectFormat(bytes.AsSpan())?.Name ?? KnownNonImageFormat(bytes);
            if (other is not null)
                throw new ImageRejectedException(ImageProblem.UnsupportedFormat,
                    $"{label} is a {other} file, which DrWeb does not accept. Export it as {accepted}.");
            throw new ImageRejectedException(ImageProblem.NotAnImage,
                $"{label} is not an image DrWeb can read. Upload a fundus photograph as {accepted}.");
        }

        IImageInfo info;
        try
        {
            using var header = new MemoryStream(bytes, writable: false);
            info = Image.Identify(Accepted, header) ?? throw new UnknownImageFormatException("no header");
        }
        catch (Exception e) when (e is ImageFormatException or NotSupportedException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new ImageRejectedException(ImageProblem.Corrupt,
                $"{label} claims to be {format.Name} but its header is damaged ({e.Message}). Export the photograph again.", e);
        }

        long pixels = (long)info.Width * info.Height;
        if (info.Width <= 0 || info.Height <= 0)
            throw new ImageRejectedException(ImageProblem.Corrupt, $"{label} has no pixels ({info.Width}x{info.Height}).");
        if (Math.Min(info.Width, info.Height) < _options.MinSide)
            throw new ImageRejectedException(ImageProblem.TooSmall,
                $"{label} is only {info.Width}x{info.Height} pixels; a fundus photograph needs at least {_options.MinSide} pixels on each side. Upload the original photograph, not a thumbnail.");
        if (Math.Max(info.Width, info.Height) > _options.MaxAspectRatio * Math.Min(info.Width, info.Height))
            throw new ImageRejectedException(ImageProblem.TooSmall,
                $"{label} is {info.Width}x{info.Height} pixels, a strip rather than a photograph (sides more than {_options.MaxAspectRatio:0.#}:1). Upload the whole fundus photograph.");
        if (pixels > _options.MaxPixels)
            throw new ImageRejectedException(ImageProblem.TooLarge,
                $"{label} is {info.Width}x{info.Height} ({pixels / 1e6:0.#} megapixels), above the limit of " +
                $"{_options.MaxPixels / 1e6:0.#} megapixels. Downscale it, or raise the pixel limit in settings.");

        if (LooksTruncated(format, bytes))
            throw new ImageRejectedException(ImageProblem.Truncated,
                $"{label} is cut off: the {format.Name} data ends before the image does. Upload the complete file.");

        Image<Rgb24> image;
        try
        {
            // Grayscale, palette, RGBA and 16-bit sources are all converted to 8-bit RGB here.
            image = Image.Load<Rgb24>(Accepted, bytes);
        }
        catch (Exception e) when (e is ImageFormatException or NotSupportedException or InvalidOperationException
                                      or IndexOutOfRangeException or ArgumentException or EndOfStreamException)
        {
            throw new ImageRejectedException(ImageProblem.Corrupt,
                $"{label} could not be decoded as {format.Name} ({e.Message}). The file is damaged; export it again.", e);
        }

        image.Mutate(x => x.AutoOrient());
        return new FundusImage(image, format.Name, name);
    }

    /// <summary>
    /// ImageSharp fills a truncated JPEG or PNG with grey rather than failing, which would let half a photograph be
    /// graded. Both formats have an explicit end: JPEG's EOI marker and PNG's IEND chunk. Only the file's last 64 KB
    /// are looked at, so a dataset check can read just that much of each file.
    /// </summary>
    public static bool LooksTruncated(IImageFormat format, ReadOnlySpan<byte> bytes)
    {
        ReadOnlySpan<byte> tail = bytes[Math.Max(0, bytes.Length - TailBytes)..];
        switch (format.Name)
        {
            case "JPEG":
                // The image's EOI must follow its last scan. An EXIF thumbnail near the start has an EOI of its own,
                // so an end marker just anywhere proves nothing; inside scan data FF D9 and FF DA cannot occur (0xFF
                // is stuffed), and cameras may append maker data after the EOI.
                int lastScan = tail.LastIndexOf(stackalloc byte[] { 0xFF, 0xDA });
                return tail[Math.Max(0, lastScan)..].IndexOf(stackalloc byte[] { 0xFF, 0xD9 }) < 0;
            case "PNG":
                return tail.IndexOf("IEND"u8) < 0;
            default:
                return false;
        }
    }

    public const int TailBytes = 64 * 1024;

    /// <summary>Whether the file at <paramref name="path"/> (a JPEG or PNG) ends before its image does.</summary>
    public static bool LooksTruncated(IImageFormat format, string path)
    {
        using var file = File.OpenRead(path);
        long start = Math.Max(0, file.Length - TailBytes);
        file.Seek(start, SeekOrigin.Begin);
        byte[] tail = new byte[file.Length - start];
        file.ReadExactly(tail);
        return LooksTruncated(format, tail);
    }

    private static string? KnownNonImageFormat(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > 132 && bytes.Slice(128, 4).SequenceEqual("DICM"u8)) return "DICOM";
        if (bytes.Length > 12 && bytes.Slice(4, 4).SequenceEqual("ftyp"u8))
        {
            string brand = System.Text.Encoding.ASCII.GetString(bytes.Slice(8, 4));
            return brand is "heic" or "heix" or "mif1" or "msf1" ? "HEIC" : brand is "avif" ? "AVIF" : null;
        }
        if (bytes.StartsWith("%PDF"u8)) return "PDF";
        return null;
    }
}
