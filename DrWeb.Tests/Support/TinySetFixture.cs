using DrWeb.Ml.Architectures;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Manifest;
using DrWeb.Ml.Training;
using static TorchSharp.torch;

namespace DrWeb.Tests.Support;

public sealed class TinySetFixture : IDisposable
{
    public TinySetFixture() { TorchSetup.Ensure(); Set = new TinyFundusSet(); }
    public TinyFundusSet Set { get; }
    public void Dispose() => Set.Dispose();
}
