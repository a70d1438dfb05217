using DrWeb.Ml.Data;
using DrWeb.Ml.Imaging;
using DrWeb.Ml.Architectures;
using DrWeb.Ml.Training;
using static TorchSharp.torch;
using DrWeb.Ml.Manifest;

namespace DrWeb.Tests.Support;

public sealed class TinySetFixture : IDisposable
{
    public TinySetFixture() { TorchSetup.Ensure(); Set = new TinyFundusSet(); }
    public TinyFundusSet Set { get; }
    public void Dispose() => Set.Dispose();
}
