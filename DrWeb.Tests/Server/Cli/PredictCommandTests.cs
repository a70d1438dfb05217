using DrWeb.Server.Cli;
using DrWeb.Tests.Support;
using SixLabors.ImageSharp;

namespace DrWeb.Tests.Server.Cli;

/// <summary>The <c>predict</c> verb end to end, on the PyTorch reference weights and real fundus photographs.</summary>
public class PredictCommandTests
{
    private static readonly string Weights = Path.Combine(SharedData.ReferenceDir, "ref_state.pth");

    [Fact]
    public async Task Grades_a_real_image_and_writes_its_overlay()
    {
        using var tmp = SharedData.TempFolder();
        string overlay = tmp.File("overlay.png");
        var (code, output, error) = await CliRunner.Run("predict", "--weights", Weights, SharedData.FundusDevImage(), "--overlay", overlay,
            "--cam-layer", "features.denseblock4");

        Assert.True(code == 0, error);
        Assert.Matches(@"grade: [0-4] \((No DR|Mild NPDR|Moderate NPDR|Severe NPDR|Proliferative DR)\)", output);
        Assert.Matches(@"referable: (yes|no) \(P\(grade>=2\) = 0\.\d{3}", output);
        var probabilities = System.Text.RegularExpressions.Regex.Matches(output, @"^\s+[0-4] .{17} (0\.\d{4})", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(5, probabilities.Count);
        Assert.Equal(1.0, probabilities.Sum(), 2);
        Assert.Contains("features.denseblock4", output);
        // A 256 px crop is usable, not good: the gate's resolution warning, as in screening.
        Assert.Contains("image quality: Usable - The fundus is only 256 pixels across", output);
        Assert.Contains("model's view: The whole photograph stretched to 224 x 224 px", output);

        var info = Image.Identify(overlay);
        Assert.Equal((256, 256), (info.Width, info.Height));
    }

    [Fact]
    public async Task The_heatmap_method_and_target_are_chosen_by_name()
    {
        using var tmp = SharedData.TempFolder();
        string overlay = tmp.File("overlay.png");
        var (code, output, error) = await CliRunner.Run("predict", "--weights", Weights, SharedData.FundusDevImage(), "--overlay", overlay,
            "--cam-method", "hirescam", "--cam-target", "referable");
        Assert.True(code == 0, error);
        Assert.Contains("(hirescam of P(referable) at features.denseblock4.denselayer16)", output);
        Assert.True(File.Exists(overlay));

        var (refused, _, message) = await CliRunner.Run("predict", "--weights", Weights, SharedData.FundusDevImage(), "--cam-method", "fullgrad");
        Assert.Equal(2, refused);
        Assert.Contains("Unknown CAM method 'fullgrad'. Available: gradcam, hirescam, gradcampp, xgradcam, layercam, eigencam, scorecam.", message);
    }

    [Fact]
    public async Task A_bad_file_is_reported_and_the_other_images_are_still_graded()
    {
        using var tmp = SharedData.TempFolder();
        File.WriteAllText(tmp.File("notes.jpeg"), "not a photograph");
        var (code, output, error) = await CliRunner.Run("predict", "--weights", Weights, tmp.File("notes.jpeg"), SharedData.FundusDevImage());

        Assert.Equal(1, code);
        Assert.Contains("notes.jpeg: 'notes.jpeg' is not an image", error);
        Assert.Contains("10007_left.jpeg", output);
        Assert.DoesNotContain("   at ", error); // no stack trace
    }

    [Fact]
    public async Task A_missing_weights_file_is_a_clear_error()
    {
        var (code, _, error) = await CliRunner.Run("predict", "--weights", "/nowhere/w.pth", SharedData.FundusDevImage());
        Assert.Equal(2, code);
        Assert.Contains("Weights file not found: /nowhere/w.pth", error);
    }

    [Fact]
    public async Task An_unknown_cam_layer_is_a_clear_error()
    {
        var (code, _, error) = await CliRunner.Run("predict", "--weights", Weights, SharedData.FundusDevImage(), "--cam-layer", "features.denseblock9");
        Assert.Equal(2, code);
        Assert.Contains("is not a layer of densenet121", error);
    }

    [Fact]
    public void Verbs_go_to_the_command_line_and_everything_else_to_the_web_app()
    {
        Assert.True(DrWebCommandLine.IsCommandLine(["predict", "--help"]));
        Assert.True(DrWebCommandLine.IsCommandLine(["--help"]));
        Assert.False(DrWebCommandLine.IsCommandLine([]));
        Assert.False(DrWebCommandLine.IsCommandLine(["--urls", "http://127.0.0.1:5000"]));
        Assert.False(DrWebCommandLine.IsCommandLine(["serve"]));
        Assert.Equal(["--urls", "x"], DrWebCommandLine.WebArguments(["serve", "--urls", "x"]));
    }
}
