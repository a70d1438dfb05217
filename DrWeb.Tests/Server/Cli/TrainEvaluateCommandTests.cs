using System.Globalization;
using System.Text.Json;
using DrWeb.Tests.Ml;
using DrWeb.Tests.Support;

namespace DrWeb.Tests.Server.Cli;

[Trait("Category", "RealDataTraining")]
public class TrainEvaluateCommandTests(TinySetFixture fixture) : IClassFixture<TinySetFixture>
{
    [Fact]
    public async Task Train_writes_a_model_folder_that_evaluate_and_predict_use_consistently()
    {
        using var tmp = SharedData.TempFolder();
        string model = tmp.File("model");
        var (code, output, error) = await CliRunner.Run("train", "--data", fixture.Set.Folder, "--out", model, "--epochs", "1",
            "--max-batches", "2", "--trainable", "layer4.2,fc", "--trained-only", "--label", "test model");
        Assert.True(code == 0, error + output);
        Assert.Contains("referable (grade >= 2, at the model's rule): sensitivity", output);
        Assert.True(File.Exists(Path.Combine(model, "model.json")));
        Assert.True(new FileInfo(Path.Combine(model, "weights.safetensors")).Length < 25_000_000);

        (code, output, error) = await CliRunner.Run("evaluate", "--data", fixture.Set.Folder, "--model", model, "--out", tmp.File("eval"));
        Assert.True(code == 0, error + output);

        var rows = File.ReadAllLines(tmp.File("eval/predictions.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(fixture.Set.Dataset.Images.Count, rows.Count);
        using var json = JsonDocument.Parse(File.ReadAllText(tmp.File("eval/metrics.json")));
        var metrics = json.RootElement.GetProperty("Report");
        var matrix = metrics.GetProperty("ConfusionMatrix").EnumerateArray()
            .Select(r => r.EnumerateArray().Select(c => c.GetInt32()).ToArray()).ToArray();
        Assert.Equal(rows.Count, matrix.Sum(r => r.Sum()));
        foreach (var row in rows)
        {
            var p = row[3..8].Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(1.0, p.Sum(), 3);
            Assert.Equal(Array.IndexOf(p, p.Max()), int.Parse(row[2]));
        }
        for (int t = 0; t < 5; t++)
            for (int q = 0; q < 5; q++)
                Assert.Equal(rows.Count(r => r[1] == t.ToString() && r[2] == q.ToString()), matrix[t][q]);
        Assert.Equal(rows.Count(r => r[1] == r[2]), metrics.GetProperty("Accuracy").GetProperty("Numerator").GetInt32());

        // An image that evaluate graded: predict must give it the same grade (same model, same image).
        var image = fixture.Set.Dataset.Images[0];
        (code, output, error) = await CliRunner.Run("predict", "--model", model, image.Path);
        Assert.True(code == 0, error);
        Assert.Contains("[test model]", output);
        Assert.Contains($"grade: {rows.Single(r => r[0] == image.Id)[2]} ", output);
    }

    [Fact]
    public async Task Train_on_two_folders_records_both_calibrates_and_evaluate_reports_each_with_intervals_and_plots()
    {
        using var tmp = SharedData.TempFolder();
        // A second folder from another source: four APTOS photographs per grade from fundus-train.
        string aptos = tmp.File("aptos");
        Directory.CreateDirectory(Path.Combine(aptos, "images"));
        string train = Path.Combine(SharedData.SharedRoot, "data", "fundus-train");
        var rows = File.ReadLines(Path.Combine(train, "labels.csv")).Skip(1).Select(l => l.Split(','))
            .Where(c => !c[0].Contains('_')).GroupBy(c => c[1]).OrderBy(g => g.Key).SelectMany(g => g.Take(4)).ToList();
        foreach (var r in rows) File.Copy(Path.Combine(train, "images", r[0]), Path.Combine(aptos, "images", r[0]));
        File.WriteAllLines(Path.Combine(aptos, "labels.csv"), ["image,grade", .. rows.Select(r => $"{r[0]},{r[1]}")]);

        string model = tmp.File("model");
        var (code, output, error) = await CliRunner.Run("train", "--data", fixture.Set.Folder, "--data", aptos, "--out", model, "--epochs", "1",
            "--max-batches", "2", "--trainable", "layer4.2,fc", "--trained-only", "--val-fraction", "0.3", "--test-fraction", "0.2");
        Assert.True(code == 0, error + output);
        Assert.Contains($"{fixture.Set.Dataset.Images.Count + rows.Count} images", output);
        Assert.Contains("preset screening", output);
        Assert.Contains("temperature", output);

        var manifest = DrWeb.Ml.Architectures.ModelDirectory.ReadManifest(model);
        Assert.Equal(2, manifest.DataFolders.Count);
        Assert.Contains(" + ", manifest.DataFolder);
        Assert.NotNull(manifest.Calibration);
        Assert.Equal(manifest.ValidationIds.Count, manifest.ValidationScores.Count);
        Assert.NotEmpty(manifest.TestIds);
        Assert.Empty(manifest.TestIds.Intersect(manifest.ValidationIds));
        Assert.Equal(2, manifest.ValidationBySource.Select(s => s.Source).Distinct().Count());
        var sources = manifest.ValidationBySource.Select(s => s.Source).ToList();
        Assert.Contains("aptos", sources);
        Assert.Equal(manifest.ValidationIds.Count, manifest.ValidationBySource.Sum(s => s.Report.Images));

        // evaluate: each folder on its own, with patient-bootstrap intervals, calibration and plots.
        // --pool reports sources from several folders as one population too.
        string tiny = Path.GetFileName(fixture.Set.Folder);
        (code, output, error) = await CliRunner.Run("evaluate", "--model", model, "--data", fixture.Set.Folder, "--data", aptos,
            "--out", tmp.File("eval"), "--bootstrap", "200", "--pool", $"both={tiny},aptos", "--pool", "none=nowhere");
        Assert.True(code == 0, error + output);
        Assert.Contains("95% intervals (200 bootstrap resamples", output);
        Assert.Contains($"== both (all), pooled over aptos, {tiny}: ", output);
        Assert.Contains("== none (all): no image comes from a source starting with nowhere", output);
        var pooled = new[] { tiny, "aptos" }.SelectMany(n => DrWeb.Ml.Evaluation.ModelEvaluator.ReadPredictions(Path.Combine(tmp.File("eval"), n, "predictions.csv"))).ToList();
        IEnumerable<string> Rows(string folder) => File.ReadLines(Path.Combine(tmp.File("eval"), folder, "predictions.csv")).Skip(1);
        Assert.Equal(Rows(tiny).Concat(Rows("aptos")).Order(StringComparer.Ordinal), Rows("pool-both").Order(StringComparer.Ordinal));
        using (var both = JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp.File("eval"), "pool-both", "metrics.json"))))
        {
            var report = both.RootElement.GetProperty("Report");
            Assert.Equal(pooled.Count, report.GetProperty("Images").GetInt32());
            double expected = DrWeb.Ml.Manifest.EvaluationReport.From(pooled, 0.913, manifest.OperatingPoint?.Threshold).Referable.RocAuc;
            var auc = report.GetProperty("Referable").GetProperty("RocAuc");
            double actual = auc.ValueKind == JsonValueKind.String ? double.Parse(auc.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : auc.GetDouble();
            // predictions.csv rounds to 6 decimals, which can make or break ties between the untrained model's close scores.
            Assert.True(double.IsNaN(expected) ? double.IsNaN(actual) : Math.Abs(expected - actual) < 0.005, $"pooled AUC {actual}, expected {expected}");
            Assert.Equal(2, both.RootElement.GetProperty("BySource").GetArrayLength());
        }
        (code, _, error) = await CliRunner.Run("evaluate", "--model", model, "--data", aptos, "--pool", "EyePACS");
        Assert.Equal(2, code);
        Assert.Contains("--pool 'EyePACS' is not NAME=SOURCE[,SOURCE...]", error);
        foreach (var name in new[] { tiny, "aptos" })
        {
            string folder = Path.Combine(tmp.File("eval"), name);
            foreach (var png in new[] { "roc.png", "reliability.png", "reliability-referable.png" })
                Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(folder, png))[..4]);
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "metrics.json")));
            var auc = json.RootElement.GetProperty("Intervals").GetProperty("RocAuc");
            Assert.InRange(auc.GetProperty("Estimate").GetDouble(), auc.GetProperty("Lower").GetDouble(), auc.GetProperty("Upper").GetDouble());
            Assert.Equal(10, json.RootElement.GetProperty("Reliability").GetProperty("Bins").GetArrayLength());
        }

        // calibrate for the study's specificity: the recorded point changes and says so.
        (code, output, error) = await CliRunner.Run("calibrate", "--model", model, "--operating-point", "specificity:0.913");
        Assert.True(code == 0, error + output);
        var recalibrated = DrWeb.Ml.Architectures.ModelDirectory.ReadManifest(model);
        if (recalibrated.OperatingPoint is { } op)
        {
            Assert.Equal(DrWeb.Ml.Manifest.OperatingTarget.Specificity, op.Target);
            Assert.True(op.Specificity.Value >= 0.913);
            Assert.Contains("set for specificity 0.913", op.Basis);
        }
        else
        {
            Assert.Contains("no operating point", output);
        }

        (code, _, error) = await CliRunner.Run("calibrate", "--model", model, "--operating-point", "recall:0.9");
        Assert.Equal(2, code);
        Assert.Contains("sensitivity:0.87", error);
    }

    [Fact]
    public async Task Train_reports_dataset_problems_by_row()
    {
        using var tmp = SharedData.TempFolder();
        File.WriteAllLines(tmp.File("labels.csv"), ["image,grade", "1_left.jpeg,9"]);
        var (code, _, error) = await CliRunner.Run("train", "--data", tmp.Path, "--out", tmp.File("m"));
        Assert.Equal(2, code);
        Assert.Contains("row 2", error);
        Assert.Contains("not 0-4", error);
    }
}
