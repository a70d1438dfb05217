using DrWeb.Ml.Imaging;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DrWeb.Tests.Ml.Imaging;

public class ImageDecoderTests
{
    private static readonly string RealImage = SharedData.FundusDevImage("10007_left.jpeg");
    private readonly ImageDecoder _decoder = new();

    private static byte[] Encode(Image image, SixLabors.ImageSharp.Formats.IImageEncoder encoder)
    {
        using var ms = new MemoryStream();
        image.Save(ms, encoder);
        return ms.ToArray();
    }

    [Fact]
    public void Decodes_a_real_fundus_jpeg_to_rgb()
    {
        using var image = _decoder.Decode(RealImage);
        Assert.Equal((256, 256), (image.Width, image.Height));
        Assert.Equal("JPEG", image.Format);
        // A fundus photograph is a lit, reddish disc on a dark background.
        static (double R, double G, double B) Mean(Image<Rgb24> img, int x0, int y0, int size)
        {
            double r = 0, g = 0, b = 0;
            for (int y = y0; y < y0 + size; y++)
                for (int x = x0; x < x0 + size; x++) { r += img[x, y].R; g += img[x, y].G; b += img[x, y].B; }
            int n = size * size;
            return (r / n, g / n, b / n);
        }
        var corner = Mean(image.Pixels, 0, 0, 16);
        var centre = Mean(image.Pixels, 96, 96, 64);
        Assert.True(corner.R + corner.G + corner.B < centre.R + centre.G + centre.B, $"corner {corner} centre {centre}");
        Assert.True(centre.R > centre.B);
    }

    public static TheoryData<string> Formats => ["png", "bmp", "tiff", "webp"];

    [Theory]
    [MemberData(nameof(Formats))]
    public void Accepts_every_supported_format_losslessly(string format)
    {
        using var original = Image.Load<Rgb24>(RealImage);
        byte[] bytes = Encode(original, format switch
        {
            "png" => new PngEncoder(),
            "bmp" => new BmpEncoder(),
            "tiff" => new TiffEncoder(),
            _ => new WebpEncoder { FileFormat = WebpFileFormatType.Lossless },
        });
        using var decoded = _decoder.Decode(bytes, "x." + format);
        Assert.Equal(original[100, 60], decoded.Pixels[100, 60]);
        Assert.Equal(original[200, 180], decoded.Pixels[200, 180]);
    }

    [Fact]
    public void Converts_grayscale_rgba_and_16_bit_images_to_8_bit_rgb()
    {
        using var original = Image.Load<Rgb24>(RealImage);
        using var gray = original.CloneAs<L8>();
        using var rgba = original.CloneAs<Rgba32>();
        using var deep = original.CloneAs<Rgb48>();

        using var g = _decoder.Decode(Encode(gray, new PngEncoder { ColorType = PngColorType.Grayscale }), "g.png");
        Rgb24 p = g.Pixels[128, 128];
        Assert.Equal(gray[128, 128].PackedValue, p.R);
        Assert.True(p.R == p.G && p.G == p.B);

        using var a = _decoder.Decode(Encode(rgba, new PngEncoder { ColorType = PngColorType.RgbWithAlpha }), "a.png");
        Assert.Equal(original[128, 128], a.Pixels[128, 128]);

        using var d = _decoder.Decode(Encode(deep, new PngEncoder { BitDepth = PngBitDepth.Bit16, ColorType = PngColorType.Rgb }), "d.png");
        Assert.Equal(original[128, 128], d.Pixels[128, 128]);
    }

    [Fact]
    public void Applies_exif_orientation()
    {
        using var original = Image.Load<Rgb24>(RealImage);
        using var wide = original.Clone(x => x.Resize(200, 100));
        wide.Metadata.ExifProfile = new ExifProfile();
        wide.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6); // rotate 90° clockwise to display
        using var decoded = _decoder.Decode(Encode(wide, new PngEncoder()), "rotated.png");
        Assert.Equal((100, 200), (decoded.Width, decoded.Height));
    }

    [Fact]
    public void Rejects_an_empty_file()
    {
        var e = Assert.Throws<ImageRejectedException>(() => _decoder.Decode([], "empty.jpg"));
        Assert.Equal(ImageProblem.Empty, e.Problem);
        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void Rejects_a_text_file_as_not_an_image()
    {
        var e = Assert.Throws<ImageRejectedException>(() => _decoder.Decode("patient notes\n"u8.ToArray(), "notes.jpg"));
        Assert.Equal(ImageProblem.NotAnImage, e.Problem);
        Assert.Contains("notes.jpg", e.Message);
        Assert.Contains("JPEG", e.Message); // says what would be accepted
    }

    [Fact]
    public void Rejects_gif_as_unsupported_and_says_what_to_do()
    {
        using var original = Image.Load<Rgb24>(RealImage);
        var e = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(Encode(original, new GifEncoder()), "x.gif"));
        Assert.Equal(ImageProblem.UnsupportedFormat, e.Problem);
        Assert.Contains("GIF", e.Message);
        Assert.Contains("Export", e.Message);
    }

    [Theory]
    [InlineData("jpeg")]
    [InlineData("png")]
    public void Rejects_a_truncated_file(string format)
    {
        byte[] full = format == "jpeg"
            ? File.ReadAllBytes(RealImage)
            : Encode(Image.Load<Rgb24>(RealImage), new PngEncoder());
        byte[] half = full[..(full.Length / 2)];
        var e = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(half, "half." + format));
        Assert.Equal(ImageProblem.Truncated, e.Problem);
    }

    [Theory]
    [InlineData("tiff", 0.6)]
    [InlineData("tiff-ifd-last", 0.6)]
    [InlineData("bmp", 0.6)]
    [InlineData("webp", 0.5)]
    [InlineData("webp-lossy", 0.5)]
    public void Rejects_a_cut_tiff_bmp_or_webp_from_its_header_and_the_dataset_check_does_too(string format, double kept)
    {
        using var original = Image.Load<Rgb24>(RealImage);
        byte[] full = format == "tiff" ? TiffWithDirectoryFirst(original) : Encode(original, format switch
        {
            "tiff-ifd-last" => new TiffEncoder(),
            "bmp" => new BmpEncoder(),
            "webp" => new WebpEncoder { FileFormat = WebpFileFormatType.Lossless },
            _ => new WebpEncoder { FileFormat = WebpFileFormatType.Lossy },
        });
        string extension = format.Split('-')[0];
        using (_decoder.Decode(full, "whole." + extension)) { }
        byte[] cut = full[..(int)(full.Length * kept)];
        var e = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(cut, "cut." + extension));
        if (format == "tiff-ifd-last")
        {
            // ImageSharp writes the directory after the strips: a cut file has no directory and is refused as damaged.
            Assert.Equal(ImageProblem.Corrupt, e.Problem);
            return;
        }
        Assert.Equal(ImageProblem.Truncated, e.Problem);

        using var tmp = SharedData.TempFolder();
        File.WriteAllBytes(tmp.File("cut." + extension), cut);
        File.WriteAllBytes(tmp.File("whole." + extension), full);
        var detected = Image.DetectFormat(full);
        Assert.True(ImageDecoder.LooksTruncated(detected, tmp.File("cut." + extension)));
        Assert.False(ImageDecoder.LooksTruncated(detected, tmp.File("whole." + extension)));
    }

    /// <summary>An uncompressed RGB TIFF with its directory before the pixels, as many cameras write it.</summary>
    private static byte[] TiffWithDirectoryFirst(Image<Rgb24> image)
    {
        int w = image.Width, h = image.Height;
        const int entries = 10;
        int ifd = 8, bitsAt = ifd + 2 + 12 * entries + 4, pixelsAt = bitsAt + 6;
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write("II"u8); writer.Write((ushort)42); writer.Write((uint)ifd);
        writer.Write((ushort)entries);
        void Entry(ushort tag, ushort type, uint count, uint value) { writer.Write(tag); writer.Write(type); writer.Write(count); writer.Write(value); }
        Entry(256, 4, 1, (uint)w);
        Entry(257, 4, 1, (uint)h);
        Entry(258, 3, 3, (uint)bitsAt);
        Entry(259, 3, 1, 1);
        Entry(262, 3, 1, 2);
        Entry(273, 4, 1, (uint)pixelsAt);
        Entry(277, 3, 1, 3);
        Entry(278, 4, 1, (uint)h);
        Entry(279, 4, 1, (uint)(w * h * 3));
        Entry(284, 3, 1, 1);
        writer.Write(0u);
        writer.Write((ushort)8); writer.Write((ushort)8); writer.Write((ushort)8);
        var pixels = new byte[w * h * 3];
        image.CopyPixelDataTo(pixels);
        writer.Write(pixels);
        return stream.ToArray();
    }

    [Fact]
    public void Rejects_a_damaged_jpeg_without_crashing()
    {
        byte[] bytes = File.ReadAllBytes(RealImage);
        // Keep the markers that identify the file as a JPEG, destroy the headers after them.
        for (int i = 4; i < 600 && i < bytes.Length; i++) bytes[i] = 0x00;
        var e = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(bytes, "damaged.jpeg"));
        Assert.True(e.Problem is ImageProblem.Corrupt or ImageProblem.NotAnImage, e.Problem.ToString());
    }

    [Fact]
    public void Rejects_an_image_over_the_pixel_limit_before_decoding_it()
    {
        var strict = new ImageDecoder(new ImageDecodeOptions { MaxPixels = 256 * 255 });
        var e = Assert.Throws<ImageRejectedException>(() => strict.Decode(RealImage));
        Assert.Equal(ImageProblem.TooLarge, e.Problem);
        Assert.Contains("256x256", e.Message);
    }

    [Fact]
    public void Decodes_a_raw_camera_photograph_at_full_resolution()
    {
        string raw = Directory.EnumerateFiles(SharedData.FundusRawImages, "*.jpeg").OrderBy(f => f).First();
        using var image = _decoder.Decode(raw);
        Assert.True(image.Width >= 1792 && image.Height >= 1184, $"{image.Width}x{image.Height}");
    }
}
