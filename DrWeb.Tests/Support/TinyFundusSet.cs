using DrWeb.Ml.Data;

namespace DrWeb.Tests.Support;

/// <summary>
/// A few dozen real fundus-dev photographs, copied into a temporary image,grade dataset folder: small enough to
/// train on in CI, real enough that a falling loss means something.
/// </summary>
public sealed class TinyFundusSet : IDisposable
{
    private readonly TempFolder _folder = new();

    public TinyFundusSet(int perGrade = 10)
    {
        string source = Path.GetDirectoryName(SharedData.FundusDevImages)!;
        var rows = File.ReadLines(Path.Combine(source, "labels.csv")).Skip(1)
            .Select(l => l.Split(','))
            .GroupBy(c => int.Parse(c[1]))
            .OrderBy(g => g.Key)
            .SelectMany(g => g.OrderBy(c => c[0], StringComparer.Ordinal).Take(perGrade))
            .ToList();
        Directory.CreateDirectory(Path.Combine(_folder.Path, "images"));
        foreach (var r in rows)
            File.Copy(Path.Combine(SharedData.FundusDevImages, r[0]), Path.Combine(_folder.Path, "images", r[0]));
        File.WriteAllLines(Path.Combine(_folder.Path, "labels.csv"), ["image,grade", .. rows.Select(r => $"{r[0]},{r[1]}")]);
        Dataset = DatasetReader.Read(_folder.Path);
    }

    public string Folder => _folder.Path;
    public Dataset Dataset { get; }

    public void Dispose() => _folder.Dispose();
}
