using DrWeb.Ml.Manifest;
using TorchSharp;
using static TorchSharp.torch.nn;

namespace DrWeb.Ml.Architectures;

public static class Heads
{
    /// <summary>Widths of the paper's head after the backbone's feature width.</summary>
    public static readonly int[] PaperWidths = [512, 256, 128, 64, 32, 16];

    /// <summary>
    /// Builds the head. The paper head is a Sequential whose children are named 0..6, so its keys read
    /// <c>classifier.0.weight</c> ... <c>classifier.6.bias</c>, exactly as PyTorch's <c>nn.Sequential</c>.
    /// </summary>
    public static torch.nn.Module<torch.Tensor, torch.Tensor> Create(HeadKind kind, int inFeatures, int numClasses) =>
        kind switch
        {
            HeadKind.Linear => Linear(inFeatures, numClasses),
            HeadKind.Paper => Sequential(PaperLayers(inFeatures, numClasses).ToArray()),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown head."),
        };

    private static IEnumerable<torch.nn.Module<torch.Tensor, torch.Tensor>> PaperLayers(int inFeatures, int numClasses)
    {
        int width = inFeatures;
        foreach (int next in PaperWidths)
        {
            yield return Linear(width, next);
            width = next;
        }
        yield return Linear(width, numClasses);
    }

    public static HeadKind Parse(string value) => value.Trim().ToLowerInvariant() switch
    {
        "paper" => HeadKind.Paper,
        "linear" => HeadKind.Linear,
        _ => throw new ArgumentException($"Unknown head '{value}'. Use 'paper' (seven Linear layers, as in the study) or 'linear'."),
    };
}
