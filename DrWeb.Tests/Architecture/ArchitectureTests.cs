using Xunit.Abstractions;

namespace DrWeb.Tests.Architecture;

/// <summary>The arrows of ARCHITECTURE.md, enforced: a namespace that uses one it may not fails here, with the types that do it.</summary>
public class ArchitectureTests(ITestOutputHelper output)
{
    /// <summary>DrWeb.Ml's layers from the bottom up; a layer may use only those below it.</summary>
    public static readonly string[] MlLayers =
        ["Torch", "Onnx", "Imaging", "Data", "Manifest", "Models", "Explain", "Inference", "Evaluation", "Training"];

    private static string? MlRoom(string ns)
    {
        const string prefix = "DrWeb.Ml.";
        if (!ns.StartsWith(prefix, StringComparison.Ordinal)) return null;
        string first = ns[prefix.Length..].Split('.')[0];
        return MlLayers.Contains(first) ? first : ns;
    }

    [Fact]
    public void DrWeb_ml_layers_use_only_the_layers_below_them()
    {
        var graph = NamespaceGraph.Read(typeof(DrWeb.Ml.Torch.TorchRuntime).Assembly.Location, MlRoom);
        var wrong = new List<string>();
        foreach (var from in graph.Rooms.OrderBy(r => Array.IndexOf(MlLayers, r)))
        {
            output.WriteLine($"{from} -> {string.Join(", ", graph.Uses(from).Order())}");
            int level = Array.IndexOf(MlLayers, from);
            Assert.True(level >= 0, $"DrWeb.Ml namespace {from} is not one of the layers in ARCHITECTURE.md.");
            foreach (var to in graph.Uses(from))
                if (Array.IndexOf(MlLayers, to) > level)
                    wrong.Add($"{from} uses {to}, a higher layer: {string.Join("; ", graph.Why(from, to))}");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }
}
