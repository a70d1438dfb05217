using DrWeb.Ml.Architectures;
using DrWeb.Ml.Manifest;
using static TorchSharp.torch;

namespace DrWeb.Tests.Support;

/// <summary>
/// DenseNet121 with the paper head and Grad-CAM must compute what torchvision + PyTorch compute on the same
/// weights (../shared/reference/densenet121-paper-head, see its README). These tests stay in the suite for good.
/// </summary>
public sealed class ReferenceModelFixture : IDisposable
{
    public ReferenceModelFixture()
    {
        TorchSetup.Ensure();
        Model = new DenseNet121(HeadKind.Paper);
        Report = CheckpointImporter.Load(Model, Path.Combine(SharedData.ReferenceDir, "ref_state.pth"));
        Model.SetTrainingMode(false);
    }

    public DenseNet121 Model { get; }
    public CheckpointImportReport Report { get; }

    public static Tensor Input(string name) =>
        tensor(F32.Read(Path.Combine(SharedData.ReferenceDir, $"{name}_input.f32")), [1, 3, 224, 224]);

    public static float[] Reference(string file) => F32.Read(Path.Combine(SharedData.ReferenceDir, file));

    public void Dispose() => Model.Dispose();
}
