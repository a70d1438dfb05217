using System.Reflection;

namespace DrWeb.Ml.Explain;

/// <summary>
/// Every CAM method, found by reflection among this assembly's <see cref="CamMethod"/> subclasses, so that a new
/// method is one new file. Names are the same everywhere: gradcam, hirescam, gradcampp, xgradcam, layercam,
/// eigencam, scorecam.
/// </summary>
public static class CamMethods
{
    private static readonly Lazy<IReadOnlyDictionary<string, Type>> ByName = new(() => typeof(CamMethod).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(CamMethod)) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null)
        .ToDictionary(t => ((CamMethod)Activator.CreateInstance(t)!).Name, t => t, StringComparer.OrdinalIgnoreCase));

    /// <summary>The names, in a stable order.</summary>
    public static IReadOnlyList<string> Names { get; } = Order(ByName.Value.Keys);

    /// <summary>A new instance of each method, in <see cref="Names"/> order.</summary>
    public static IReadOnlyList<CamMethod> All => Names.Select(Create).ToList();

    public static CamMethod Parse(string name)
    {
        string key = name.Trim().Replace("-", "", StringComparison.Ordinal).Replace("++", "pp", StringComparison.Ordinal);
        return ByName.Value.ContainsKey(key) ? Create(key)
            : throw new ArgumentException($"Unknown CAM method '{name}'. Available: {string.Join(", ", Names)}.");
    }

    /// <summary>
    /// How a stored heatmap is described to a reader: "Grad-CAM at layer4", "Score-CAM of P(referable) at layer4".
    /// An unknown or empty method name (rows written before the choice existed) reads as Grad-CAM.
    /// </summary>
    public static string Describe(string? method, string? target, string layer)
    {
        string name = ByName.Value.ContainsKey(method ?? "") ? Create(method!).DisplayName : "Grad-CAM";
        string of = target switch
        {
            null or "" or "predicted" => "",
            "referable" => " of P(referable)",
            _ => $" of grade {target}",
        };
        return $"{name}{of} at {layer}";
    }

    private static CamMethod Create(string name) => (CamMethod)Activator.CreateInstance(ByName.Value[name])!;

    private static IReadOnlyList<string> Order(IEnumerable<string> names)
    {
        string[] known = ["gradcam", "hirescam", "gradcampp", "xgradcam", "layercam", "eigencam", "scorecam"];
        return names.OrderBy(n => Array.IndexOf(known, n) is var i && i < 0 ? int.MaxValue : i).ThenBy(n => n, StringComparer.Ordinal).ToList();
    }
}
