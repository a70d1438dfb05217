using DrWeb.Ml.Torch;

namespace DrWeb.Tests.Support;

/// <summary>Loads libtorch once for the test run, CPU, with the passive OpenMP wait policy used in production.</summary>
public static class TorchSetup
{
    private static readonly Lazy<bool> Loaded = new(() =>
    {
        TorchRuntime.Initialize(new TorchOptions { Threads = 2, OmpWaitPolicy = "PASSIVE", Device = "cpu" });
        return true;
    });

    public static void Ensure() => _ = Loaded.Value;
}
