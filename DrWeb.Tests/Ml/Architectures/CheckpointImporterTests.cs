using DrWeb.Ml.Architectures;
using DrWeb.Ml.Manifest;
using DrWeb.Tests.Support;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace DrWeb.Tests.Ml.Architectures;

public class CheckpointImporterTests
{
    public CheckpointImporterTests() => TorchSetup.Ensure();

    private static float[] Logits(FundusClassifier model, Tensor x)
    {
        model.SetTrainingMode(false);
        using var _ = no_grad();
        using var y = model.call(x);
        return y.data<float>().ToArray();
    }

    [Fact]
    public void Missing_file_says_where_it_was_expected_and_how_to_get_one()
    {
        using var model = new DenseNet121();
        var e = Assert.Throws<CheckpointNotFoundException>(() => CheckpointImporter.Load(model, "/nowhere/densenet121-a639ec97.pth"));
        Assert.Contains("/nowhere/densenet121-a639ec97.pth", e.Message);
        Assert.Contains("torch.save", e.Message);
    }

    [Theory]
    [InlineData("model.safetensors")]
    [InlineData("model.pth")]
    public void Saved_weights_load_back_to_the_same_predictions(string fileName)
    {
        using var tmp = SharedData.TempFolder();
        using var x = randn(1, 3, 224, 224);
        using var a = new DenseNet121();
        using var b = new DenseNet121();
        Assert.NotEqual(Logits(a, x), Logits(b, x));

        CheckpointImporter.Save(a, tmp.File(fileName));
        var report = CheckpointImporter.Load(b, tmp.File(fileName));
        Assert.Equal(a.state_dict().Count, report.LoadedKeys);
        Assert.Equal(Logits(a, x), Logits(b, x));
    }

    [Fact]
    public void ImageNet_checkpoint_with_legacy_names_loads_as_base_weights_for_the_paper_head()
    {
        using var tmp = SharedData.TempFolder();
        string path = tmp.File("densenet121-legacy.pth");
        // Build what torchvision's original densenet121-a639ec97.pth looks like: 1000 classes, 'norm.1'-style
        // names inside dense layers, and no BatchNorm step counters (it predates them).
        using (var imagenet = new DenseNet121(HeadKind.Linear, numClasses: 1000))
        {
            var legacy = new Dictionary<string, Tensor>();
            foreach (var (key, value) in imagenet.state_dict())
            {
                if (key.EndsWith("num_batches_tracked")) continue;
                string legacyKey = System.Text.RegularExpressions.Regex.Replace(key, @"(denselayer\d+\.(?:norm|conv))([12])\.", "$1.$2.");
                legacy[legacyKey] = value;
            }
            Assert.Contains("features.denseblock1.denselayer1.norm.1.weight", legacy.Keys);
            PyTorchPickler.PickleStateDict(path, legacy);
        }

        using var model = new DenseNet121(HeadKind.Paper);
        var before = model.state_dict()["classifier.0.weight"].clone();
        var report = CheckpointImporter.Load(model, path, skipMismatchedClassifier: true);

        Assert.Equal(580, report.RenamedLegacyKeys); // 58 dense layers x (norm1 4 + conv1 1 + norm2 4 + conv2 1)
        Assert.Equal(["classifier.bias", "classifier.weight"], report.SkippedClassifierKeys.Order().ToArray());
        Assert.Equal(121, report.MissingBatchCounters.Count); // one per BatchNorm layer
        Assert.True(model.state_dict()["classifier.0.weight"].eq(before).all().item<bool>(), "the paper head keeps its own initialisation");
    }

    [Fact]
    public void ImageNet_classifier_is_refused_when_skipping_was_not_asked_for()
    {
        using var tmp = SharedData.TempFolder();
        using (var imagenet = new DenseNet121(HeadKind.Linear, numClasses: 1000))
            CheckpointImporter.Save(imagenet, tmp.File("imagenet.pth"));

        using var model = new DenseNet121(HeadKind.Linear, numClasses: 5);
        var e = Assert.Throws<CheckpointMismatchException>(() => CheckpointImporter.Load(model, tmp.File("imagenet.pth")));
        Assert.Equal(["classifier.bias: file [1000], model [5]", "classifier.weight: file [1000,1024], model [5,1024]"],
            e.WrongShape.Order().ToArray());
        Assert.Contains("imagenet.pth", e.Message);
        Assert.Contains("base weights", e.Message);
    }

    [Fact]
    public void Checkpoint_of_another_model_lists_missing_and_unexpected_keys()
    {
        using var tmp = SharedData.TempFolder();
        using var other = TorchSharp.torch.nn.Sequential(("fc", TorchSharp.torch.nn.Linear(4, 2)));
        other.save_py(tmp.File("other.pth"));

        using var model = new DenseNet121();
        var e = Assert.Throws<CheckpointMismatchException>(() => CheckpointImporter.Load(model, tmp.File("other.pth")));
        Assert.Equal(["fc.bias", "fc.weight"], e.Unexpected.Order().ToArray());
        Assert.Contains("features.conv0.weight", e.Missing);
        Assert.Contains("missing key(s)", e.Message);
    }

    [Fact]
    public void Truncated_or_foreign_files_get_a_readable_error()
    {
        using var tmp = SharedData.TempFolder();
        using var model = new DenseNet121();
        CheckpointImporter.Save(model, tmp.File("full.pth"));
        byte[] bytes = File.ReadAllBytes(tmp.File("full.pth"));
        File.WriteAllBytes(tmp.File("cut.pth"), bytes[..(bytes.Length / 3)]);
        File.WriteAllText(tmp.File("notes.pth"), "these are not weights at all");

        var cut = Assert.Throws<CheckpointException>(() => CheckpointImporter.Load(model, tmp.File("cut.pth")));
        Assert.Contains("cut.pth", cut.Message);
        var foreign = Assert.Throws<CheckpointException>(() => CheckpointImporter.Load(model, tmp.File("notes.pth")));
        Assert.Contains("neither a PyTorch zip checkpoint nor a safetensors file", foreign.Message);
    }
}
