using System.Text.Json;
using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Explain;
using DrWeb.Ml.Manifest;
using DrWeb.Tests.Support;

namespace DrWeb.Tests.Server.Cli;

public class ExplainStudyCommandTests
{
    private static string DefaultModel => ShippedModel.Folder;
    private static string Atlas => Path.Combine(SharedData.SharedRoot, "data", "idrid-lesions");

    [Trait("Category", "Slow")]
    [Fact]
    public async Task An_explanation_study_of_the_default_model_on_an_idrid_photograph_writes_its_report()
    {
        using var tmp = SharedData.TempFolder();
        var (code, output, error) = await CliRunner.Run("explain-study", "--model", DefaultModel, "--data", Atlas, "--limit", "1",
            "--methods", "gradcam,eigencam", "--figures", "1", "--out", tmp.Path);
        Assert.True(code == 0, error + output);
        Assert.Contains("gradcam", output);
        var study = JsonSerializer.Deserialize<ExplanationStudyResult>(File.ReadAllText(tmp.File(ExplanationStudyReport.SummaryFile)), ModelManifest.Json)!;
        Assert.Equal(["gradcam", "eigencam", "random"], study.Methods.Select(m => m.Method));
        Assert.True(double.IsNaN(study.Methods[2].SanityRankCorrelation));
        Assert.False(File.Exists(Path.Combine(tmp.Path, "figures", "IDRiD_01_random.png")));
        foreach (var row in study.Measurements.Where(r => r.Method != "random"))
        {
            Assert.Equal("IDRiD_01", row.Image);
            Assert.InRange(row.DeletionAuc, 0, 1);
            Assert.InRange(row.InsertionAuc, 0, 1);
            Assert.True(double.IsFinite(row.RoadScore));
            Assert.InRange(row.SanityRankCorrelation, -1, 1);
            var lesions = row.Lesions!;
            Assert.NotNull(lesions.PointingHit);
            Assert.Equal(1.0, lesions.Regions.Take(5).Sum(r => r.EnergyShare), 6);
            Assert.Equal(1.0, lesions.Regions.Take(5).Sum(r => r.AreaShare), 4);
            Assert.InRange(lesions.LesionAuroc, 0, 1);
        }
        string html = File.ReadAllText(tmp.File(ExplanationStudyReport.ReportFile));
        Assert.Contains("Where the heatmap falls", html);
        Assert.True(File.Exists(Path.Combine(tmp.Path, "figures", "IDRiD_01_outlines.png")));
        Assert.True(File.Exists(Path.Combine(tmp.Path, "figures", "IDRiD_01_eigencam.png")));
        Assert.Equal(4, File.ReadAllLines(tmp.File(ExplanationStudyReport.MeasurementsFile)).Length);
    }

    [Fact]
    public async Task A_labelled_dataset_without_masks_gets_the_sanity_check_and_no_lesion_figures()
    {
        using var tmp = SharedData.TempFolder();
        var (code, output, error) = await CliRunner.Run("explain-study", "--model", DefaultModel, "--data", Path.GetDirectoryName(SharedData.FundusRawImages)!,
            "--limit", "1", "--methods", "gradcam", "--no-faithfulness", "--no-baseline", "--figures", "0", "--out", tmp.Path);
        Assert.True(code == 0, error + output);
        var study = JsonSerializer.Deserialize<ExplanationStudyResult>(File.ReadAllText(tmp.File(ExplanationStudyReport.SummaryFile)), ModelManifest.Json)!;
        var row = Assert.Single(study.Measurements);
        Assert.Null(row.Lesions);
        Assert.True(double.IsNaN(row.DeletionAuc));
        Assert.InRange(row.SanityRankCorrelation, -1, 1);
        Assert.DoesNotContain("Where the heatmap falls", File.ReadAllText(tmp.File(ExplanationStudyReport.ReportFile)));
    }

    [Fact]
    public async Task A_folder_that_is_neither_an_atlas_nor_a_dataset_is_refused_with_the_fix()
    {
        using var tmp = SharedData.TempFolder();
        var (code, _, error) = await CliRunner.Run("explain-study", "--model", DefaultModel, "--data", tmp.Path, "--no-faithfulness");
        Assert.Equal(2, code);
        Assert.Contains("error", error);
        var unknown = await CliRunner.Run("explain-study", "--model", DefaultModel, "--data", Atlas, "--methods", "fullgrad");
        Assert.Equal(2, unknown.Code);
        Assert.Contains("gradcam, hirescam", unknown.Err);
    }
}
