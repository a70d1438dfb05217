using System.Globalization;

namespace DrWeb.Ml.Data;

/// <summary>The kinds of expert masks in a lesion atlas, by their IDRiD file codes.</summary>
public static class LesionKinds
{
    /// <summary>The four lesion kinds, in the order reports list them.</summary>
    public static readonly IReadOnlyList<string> Lesions = ["MA", "HE", "EX", "SE"];

    /// <summary>The optic disc's mask: an anatomical landmark, not a lesion.</summary>
    public const string OpticDisc = "OD";

    /// <summary>The colour a vessel map is drawn in (vessels are found by a filter, not outlined by experts).</summary>
    public const string VesselColour = "#39ff14";

    public static string Name(string code) => code switch
    {
        "MA" => "microaneurysms",
        "HE" => "haemorrhages",
        "EX" => "hard exudates",
        "SE" => "soft exudates",
        OpticDisc => "optic disc",
        _ => code,
    };

    /// <summary>The colour each kind is outlined in, the same in reports and on the pages (hex RGB).</summary>
    public static string Colour(string code) => code switch
    {
        "MA" => "#00e5ff",
        "HE" => "#2979ff",
        "EX" => "#ffea00",
        "SE" => "#76ff03",
        OpticDisc => "#ffffff",
        _ => "#ff00ff",
    };
}

/// <summary>One photograph of a lesion atlas with the paths of its expert masks (by kind code) and, when known, its DR grade.</summary>
public sealed record LesionCase(string Id, string ImagePath, int? Grade, IReadOnlyDictionary<string, string> Masks)
{
    public bool Has(string kind) => Masks.ContainsKey(kind);
    public bool HasLesions => LesionKinds.Lesions.Any(Has);
}

/// <summary>
/// A folder of photographs with pixel masks in the IDRiD segmentation layout: <c>images/NAME.jpg</c>,
/// <c>masks/NAME_KIND.png</c> (KIND = MA, HE, EX, SE or OD; any non-zero pixel is marked) and, optionally,
/// <c>labels.csv</c> (<c>image,grade</c>) for the photographs that have a DR grade.
/// </summary>
public static class LesionAtlas
{
    public static bool IsAtlas(string folder) => Directory.Exists(Path.Combine(folder, "images")) && Directory.Exists(Path.Combine(folder, "masks"));

    public static IReadOnlyList<LesionCase> Read(string folder)
    {
        if (!IsAtlas(folder))
            throw Problem(folder, "it needs an images/ and a masks/ folder", "Use the IDRiD layout: images/NAME.jpg with masks/NAME_MA.png, NAME_HE.png and so on.");
        var grades = ReadGrades(Path.Combine(folder, "labels.csv"));
        var masks = Directory.EnumerateFiles(Path.Combine(folder, "masks"), "*.png")
            .Select(p => (Path: p, Name: Path.GetFileNameWithoutExtension(p)))
            .Where(m => m.Name.LastIndexOf('_') > 0)
            .GroupBy(m => m.Name[..m.Name.LastIndexOf('_')], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyDictionary<string, string>)g.ToDictionary(m => m.Name[(m.Name.LastIndexOf('_') + 1)..].ToUpperInvariant(), m => m.Path),
                StringComparer.Ordinal);
        var cases = new List<LesionCase>();
        foreach (var image in Directory.EnumerateFiles(Path.Combine(folder, "images")).Order(StringComparer.Ordinal))
        {
            string id = Path.GetFileNameWithoutExtension(image);
            if (!masks.TryGetValue(id, out var own)) continue;
            cases.Add(new LesionCase(id, image, grades.TryGetValue(Path.GetFileName(image), out int g) ? g : null, own));
        }
        if (cases.Count == 0)
            throw Problem(folder, "no photograph in images/ has a mask in masks/", "Name each mask after its photograph and kind, e.g. masks/IDRiD_01_MA.png for images/IDRiD_01.jpg.");
        return cases;
    }

    private static DatasetException Problem(string folder, string problem, string advice) =>
        new(new DatasetValidationReport(folder, null, null, 0, 0, [new DatasetProblem(DatasetProblemKind.UnknownLayout, $"Not a lesion atlas: {problem}.")]), advice);

    private static Dictionary<string, int> ReadGrades(string path)
    {
        var grades = new Dictionary<string, int>(StringComparer.Ordinal);
        if (!File.Exists(path)) return grades;
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var parts = line.Split(',');
            if (parts.Length >= 2 && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int grade) && grade is >= 0 and < DrGrade.Count)
                grades[parts[0].Trim()] = grade;
        }
        return grades;
    }
}
