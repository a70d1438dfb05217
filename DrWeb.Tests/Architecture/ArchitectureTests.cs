using Xunit.Abstractions;

namespace DrWeb.Tests.Architecture;

/// <summary>The arrows of ARCHITECTURE.md, enforced: a namespace that uses one it may not fails here, with the types that do it.</summary>
public class ArchitectureTests(ITestOutputHelper output)
{
    /// <summary>DrWeb.Ml's layers from the bottom up; a layer may use only those below it.</summary>
    public static readonly string[] MlLayers =
        ["Torch", "Onnx", "Imaging", "Data", "Manifest", "Architectures", "Explain", "Inference", "Evaluation", "Training"];

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

    private static string? ServerRoom(string ns)
    {
        const string prefix = "DrWeb.Server.";
        return ns.StartsWith(prefix, StringComparison.Ordinal) ? ns[prefix.Length..].Split('.')[0] : null;
    }

    /// <summary>The feature rooms, and the small public services each offers to the others.</summary>
    public static readonly Dictionary<string, string[]> FeatureSurface = new()
    {
        ["Accounts"] = ["AuditLog", "AuditAction"],
        ["Registry"] = ["ActiveModel", "ModelLease", "ModelRegistry", "RegistryResult", "OperatingPoints", "OperatingPointView"],
        ["Screening"] = ["ScreeningService", "ScreeningUpload", "ScreeningOutcome", "CaseQueries", "ScreeningResult", "ScreeningApi",
            "IdempotentRequests", "StoredAnswer", "PixelBudget"],
        ["Teaching"] = ["ValidationGallery"],
        ["Training"] = [],
        ["Exams"] = [],
    };

    /// <summary>Which feature may use which: an acyclic list, written out in ARCHITECTURE.md.</summary>
    public static readonly (string From, string To)[] FeatureArrows =
    [
        ("Registry", "Accounts"), ("Screening", "Accounts"), ("Teaching", "Accounts"),
        ("Screening", "Registry"), ("Training", "Registry"), ("Teaching", "Registry"), ("Training", "Teaching"),
        ("Exams", "Accounts"), ("Exams", "Registry"), ("Exams", "Screening"),
    ];

    /// <summary>Rooms below the features, which every feature may use: options, database, storage; shared widgets.</summary>
    private static readonly string[] Foundations = ["Platform", "Shared"];

    [Fact]
    public void DrWeb_server_features_use_each_other_only_through_their_public_services_and_never_the_composition()
    {
        var graph = NamespaceGraph.Read(typeof(DrWeb.Server.Platform.DrWebOptions).Assembly.Location, ServerRoom);
        var wrong = new List<string>();
        foreach (var from in graph.Rooms.Order())
        {
            output.WriteLine($"{from} -> {string.Join(", ", graph.Uses(from).Order())}");
            foreach (var to in graph.Uses(from))
            {
                string why = string.Join("; ", graph.Why(from, to));
                if (from == "Platform")
                    wrong.Add($"Platform is the bottom room but uses {to}: {why}");
                else if (from == "Shared" && to != "Platform")
                    wrong.Add($"Shared widgets use only Platform, not {to}: {why}");
                else if (FeatureSurface.ContainsKey(from) && !Foundations.Contains(to))
                {
                    if (!FeatureSurface.ContainsKey(to))
                        wrong.Add($"Feature {from} uses {to}, which only composes features: {why}");
                    else if (!FeatureArrows.Contains((from, to)))
                        wrong.Add($"Feature {from} uses feature {to}, an arrow ARCHITECTURE.md does not allow: {why}");
                    else if (graph.TypesUsed(from, to).Except(FeatureSurface[to]).ToList() is { Count: > 0 } inner)
                        wrong.Add($"Feature {from} reaches into {to}'s internals ({string.Join(", ", inner.Order())}); go through {string.Join(", ", FeatureSurface[to])}.");
                }
                else if (to is "Hosting" && from != "Cli")
                    wrong.Add($"{from} uses Hosting, the composition root: {why}");
            }
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public void The_allowed_feature_arrows_form_no_cycle()
    {
        var visiting = new HashSet<string>();
        var done = new HashSet<string>();
        bool Cycle(string room)
        {
            if (done.Contains(room)) return false;
            if (!visiting.Add(room)) return true;
            bool found = FeatureArrows.Where(a => a.From == room).Any(a => Cycle(a.To));
            visiting.Remove(room);
            done.Add(room);
            return found;
        }
        Assert.DoesNotContain(FeatureSurface.Keys, Cycle);
    }
}
