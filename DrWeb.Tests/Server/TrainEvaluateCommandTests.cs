using System.Globalization;
using System.Text.Json;
using DrWeb.Server.Cli;
using DrWeb.Tests.Ml;
using DrWeb.Tests.Support;

namespace DrWeb.Tests.Server;

[Trait("Category", "RealDataTraining")]
public class TrainEvaluateCommandTests(TinySetFixture fixture) : IClassFixture<TinySetFixture>
{
    [Fact]
    public async Task Train_writes_a_model_folder_that_evaluate_and_predict_use_consistently()
    {
        using var tmp = SharedData.TempFolder();
        string model = tmp.File("model");
        var (code, output, error) = await Cli.Run("train", "--data", fixture.Set.Folder, "--out", model, "--epochs", "1",
            "--max-batches", "2", "--trainable", "layer4.2,fc", "--trained-only", "--label", "test model");
        Assert.True(code == 0, error + output);
        Assert.Contains("referable (grade >= 2): sensitivity", output);
        Assert.True(File.Exists(Path.Combine(model, "model.json")));
        Assert.True(new FileInfo(Path.Combine(model, "weights.safetensors")).Length < 25_000_000);

        (code, output, error) = await Cli.Run("evaluate", "--data", fixture.Set.Folder, "--model", model, "--out", tmp.File("eval"));
        Assert.True(code == 0, error + output);

        var rows = File.ReadAllLines(tmp.File("eval/predictions.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(fixture.Set.Dataset.Images.Count, rows.Count);
        using var metrics = JsonDocument.Parse(File.ReadAllText(tmp.File("eval/metrics.json")));
        var matrix = metrics.RootElement.GetProperty("ConfusionMatrix").EnumerateArray()
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
        Assert.Equal(rows.Count(r => r[1] == r[2]), metrics.RootElement.GetProperty("Accuracy").GetProperty("Numerator").GetInt32());

        (code, output, error) = await Cli.Run("predict", "--model", model, SharedData.FundusDevImage());
        Assert.True(code == 0, error);
        Assert.Contains("[test model]", output);
        string id = Path.GetFileNameWithoutExtension(SharedData.FundusDevImage());
        var csvRow = rows.SingleOrDefault(r => r[0] == id);
        if (csvRow is not null)
            Assert.Contains($"grade: {csvRow[2]} ", output); // same model, same image, same grade
    }

    [Fact]
    public async Task Train_reports_dataset_problems_by_row()
    {
        using var tmp = SharedData.TempFolder();
        File.WriteAllLines(tmp.File("labels.csv"), ["image,grade", "1_left.jpeg,9"]);
        var (code, _, error) = await Cli.Run("train", "--data", tmp.Path, "--out", tmp.File("m"));
        Assert.Equal(2, code);
        Assert.Contains("row 2", error);
        Assert.Contains("not 0-4", error);
    }
}
