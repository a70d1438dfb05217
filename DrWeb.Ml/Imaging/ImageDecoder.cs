using System.Buffers.Binary;
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

    /// <summary>
    /// Everything that can be judged from the header (format, size, shape, pixel count, truncation), without
    /// decoding: a caller can admit the work, and budget its memory, before paying for the pixels.
    /// </summary>
    public ImageHeader Inspect(byte[] bytes, string? name = null)
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

        return new ImageHeader(format, info.Width, info.Height);
    }

    public FundusImage Decode(byte[] bytes, string? name = null) => Decode(bytes, Inspect(bytes, name), name);

    /// <summary>Decodes bytes whose header <see cref="Inspect"/> has already passed, without checking it again.</summary>
    public FundusImage Decode(byte[] bytes, ImageHeader header, string? name = null)
    {
        string label = string.IsNullOrEmpty(name) ? "The file" : $"'{name}'";
        var format = header.Format;
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
    /// ImageSharp fills a truncated image with grey rather than failing, which would let half a photograph be graded.
    /// JPEG and PNG have an explicit end (JPEG's EOI after the last scan, PNG's IEND chunk), looked for in the last
    /// 64 KB; BMP, WebP and TIFF say in their headers how long their data is, which is compared with the length.
    /// </summary>
    public static bool LooksTruncated(IImageFormat format, ReadOnlySpan<byte> bytes) =>
        LooksTruncated(format, bytes, bytes[Math.Max(0, bytes.Length - TailBytes)..], bytes.Length);

    /// <param name="head">The file from its start (all of it for TIFF, whose directory may lie anywhere).</param>
    /// <param name="tail">The file's last <see cref="TailBytes"/> bytes.</param>
    private static bool LooksTruncated(IImageFormat format, ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail, long length)
    {
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
            case "BMP":
                return BmpEnd(head) is not { } bmpEnd || bmpEnd > length;
            case "Webp":
            case "WEBP":
                return head.Length < 12 || 8L + BinaryPrimitives.ReadUInt32LittleEndian(head[4..]) > length;
            case "TIFF":
                return TiffEnd(head) is not { } tiffEnd || tiffEnd > length;
            default:
                return false;
        }
    }

    /// <summary>Where an uncompressed BMP's pixel rows end (offset + rows x padded row size); the header's file size for compressed ones.</summary>
    private static long? BmpEnd(ReadOnlySpan<byte> b)
    {
        if (b.Length < 34) return null;
        long declared = BinaryPrimitives.ReadUInt32LittleEndian(b[2..]);
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(b[10..]);
        int width = BinaryPrimitives.ReadInt32LittleEndian(b[18..]), height = BinaryPrimitives.ReadInt32LittleEndian(b[22..]);
        int bpp = BinaryPrimitives.ReadUInt16LittleEndian(b[28..]);
        uint compression = BinaryPrimitives.ReadUInt32LittleEndian(b[30..]);
        if (compression is 0 or 3 or 6)
            return offset + ((long)bpp * width + 31) / 32 * 4 * Math.Abs((long)height);
        return declared > 0 ? declared : offset;
    }

    /// <summary>The end of the furthest strip or tile of a TIFF's first image, from its directory; null when the directory cannot be read.</summary>
    private static long? TiffEnd(ReadOnlySpan<byte> b)
    {
        if (b.Length < 8) return null;
        bool little = b[0] == (byte)'I';
        uint U32(ReadOnlySpan<byte> s) => little ? BinaryPrimitives.ReadUInt32LittleEndian(s) : BinaryPrimitives.ReadUInt32BigEndian(s);
        ushort U16(ReadOnlySpan<byte> s) => little ? BinaryPrimitives.ReadUInt16LittleEndian(s) : BinaryPrimitives.ReadUInt16BigEndian(s);
        long ifd = U32(b[4..]);
        if (ifd + 2 > b.Length) return null;
        int entries = U16(b[(int)ifd..]);
        if (ifd + 2 + 12L * entries > b.Length) return null;
        long[]? offsets = null, counts = null;
        for (int e = 0; e < entries; e++)
        {
            var entry = b.Slice((int)ifd + 2 + 12 * e, 12);
            ushort tag = U16(entry), type = U16(entry[2..]);
            long count = U32(entry[4..]);
            if (tag is not (273 or 279 or 324 or 325) || type is not (3 or 4) || count is <= 0 or > 1_000_000) continue;
            int size = type == 3 ? 2 : 4;
            long at = count * size <= 4 ? (int)ifd + 2 + 12 * e + 8 : U32(entry[8..]);
            if (at + count * size > b.Length) return null;
            var values = new long[count];
            for (int i = 0; i < count; i++)
                values[i] = size == 2 ? U16(b[(int)(at + 2 * i)..]) : U32(b[(int)(at + 4 * i)..]);
            if (tag is 273 or 324) offsets = values; else counts = values;
        }
        if (offsets is null || counts is null || offsets.Length != counts.Length) return null;
        return offsets.Zip(counts, (o, c) => o + c).Max();
    }

    public const int TailBytes = 64 * 1024;

    /// <summary>Whether the file at <paramref name="path"/> ends before its image does, reading only what the check needs.</summary>
    public static bool LooksTruncated(IImageFormat format, string path)
    {
        if (format.Name == "TIFF") return LooksTruncated(format, File.ReadAllBytes(path));
        using var file = File.OpenRead(path);
        byte[] head = new byte[Math.Min(file.Length, 64)];
        file.ReadExactly(head);
        long start = Math.Max(0, file.Length - TailBytes);
        file.Seek(start, SeekOrigin.Begin);
        byte[] tail = new byte[file.Length - start];
        file.ReadExactly(tail);
        return LooksTruncated(format, head, tail, file.Length);
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

/// <summary>What an image file's header says, once it has passed every check that needs no decoding.</summary>
public sealed record ImageHeader(IImageFormat Format, int Width, int Height)
{
    public long Pixels => (long)Width * Height;
}
