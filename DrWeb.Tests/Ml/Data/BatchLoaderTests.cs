using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp.PixelFormats;

namespace DrWeb.Tests.Ml.Data;

public class BatchLoaderTests
{
    [Fact]
    public void Loads_batches_in_order_with_bounded_prefetch()
    {
        var data = DatasetReader.Read(Path.GetDirectoryName(SharedData.FundusDevImages)!, new DatasetReadOptions { CheckImagesReadable = false });
        var images = data.Images.Take(10).ToList();
        int[] order = [3, 1, 4, 1, 5, 9, 2];
        var batches = BatchLoader.Batches(images, order, 3, Preprocessing.ImageNet224, AugmentationOptions.None, 1, 0,
            new LoaderOptions { Workers = 2, Prefetch = 1 }).ToList();
        Assert.Equal([3, 3, 1], batches.Select(b => b.Count));
        Assert.Equal(order, batches.SelectMany(b => b.ImageIndices));
        Assert.Equal(order.Select(i => images[i].Grade), batches.SelectMany(b => b.Grades));

        // Without augmentation a batch slot holds exactly what ModelInput computes for that image.
        using var photo = new ImageDecoder().Decode(images[4].Path);
        var expected = new float[3 * 224 * 224];
        ModelInput.Fill(photo.Pixels, Preprocessing.ImageNet224, expected);
        Assert.Equal(expected, batches[0].Pixels.AsSpan(2 * expected.Length, expected.Length).ToArray());
    }

    [Fact]
    public void A_bad_image_surfaces_as_a_readable_error()
    {
        using var tmp = SharedData.TempFolder();
        File.WriteAllText(tmp.File("bad.jpeg"), "nope");
        var images = new List<LabelledImage> { new(tmp.File("bad.jpeg"), "bad", 0, "bad") };
        var e = Assert.Throws<InvalidDataException>(() =>
            BatchLoader.Batches(images, [0], 1, Preprocessing.ImageNet224, AugmentationOptions.None, 1, 0).ToList());
        Assert.Contains("'bad'", e.Message);
    }
}
