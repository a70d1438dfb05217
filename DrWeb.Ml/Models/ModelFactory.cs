namespace DrWeb.Ml.Models;

/// <summary>Builds a classifier by architecture name.</summary>
public static class ModelFactory
{
    public static readonly IReadOnlyList<string> Architectures = ["resnet18", "densenet121", "resnet101", "vgg16"];

    public static FundusClassifier Create(string architecture, HeadKind head = HeadKind.Paper, int numClasses = 5) =>
        architecture.Trim().ToLowerInvariant() switch
        {
            "densenet121" => new DenseNet121(head, numClasses),
            "resnet18" => new ResNet18Onnx(head, numClasses),
            "resnet101" => new ResNet101(head, numClasses),
            "vgg16" => new Vgg16(head, numClasses),
            _ => throw new ArgumentException(
                $"Unknown architecture '{architecture}'. Available: {string.Join(", ", Architectures)}."),
        };
}
