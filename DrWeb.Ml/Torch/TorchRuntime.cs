using System.Runtime.InteropServices;
using TorchSharp;

namespace DrWeb.Ml.Torch;

/// <summary>
/// libtorch is process-wide state: it is loaded once, reads its OpenMP environment once, and has one thread pool.
/// This class is the one place that touches that state, and it must run before any other torch call.
/// </summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static TorchOptions? _applied;
    private static torch.Device? _device;

    /// <summary>Thrown when libtorch cannot be loaded; the message says why and what to do.</summary>
    public sealed class TorchUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

    public static bool IsInitialized => _applied is not null;

    public static TorchOptions Options => _applied ?? throw new InvalidOperationException("TorchRuntime.Initialize has not run.");

    /// <summary>The device chosen by <see cref="TorchOptions.Device"/>.</summary>
    public static torch.Device Device => _device ?? throw new InvalidOperationException("TorchRuntime.Initialize has not run.");

    /// <summary>
    /// Sets the native environment, loads libtorch, sets the thread count and picks the device. Safe to call more
    /// than once: later calls may change the thread count, but the wait policy is fixed by the first one.
    /// </summary>
    public static void Initialize(TorchOptions? options = null)
    {
        options ??= new TorchOptions();
        lock (Gate)
        {
            if (_applied is null && !string.IsNullOrWhiteSpace(options.OmpWaitPolicy))
                SetNativeEnvironment("OMP_WAIT_POLICY", options.OmpWaitPolicy.Trim().ToUpperInvariant());

            try
            {
                torch.InitializeDeviceType(DeviceType.CPU);
            }
            catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException)
            {
                throw new TorchUnavailableException(
                    "libtorch could not be loaded. On Debian 12 this happens when libLibTorchSharp.so in the build output " +
                    "was not patched for the system libstdc++ (see README, 'TorchSharp on Debian'). Rebuild with " +
                    "'dotnet build' so that the patch step runs, or install a libstdc++ that provides GLIBCXX_3.4.32. " +
                    $"Detail: {Innermost(e).Message}", e);
            }

            int threads = options.Threads > 0 ? options.Threads : TorchOptions.AutomaticThreads;
            torch.set_num_threads(threads);
            _device = ChooseDevice(options.Device);
            _applied = new TorchOptions { Threads = threads, OmpWaitPolicy = options.OmpWaitPolicy, Device = _device.ToString() };
        }
    }

    /// <summary>Changes the intra-op thread count (benchmarks compare 1 and 2 threads in one process).</summary>
    public static void SetThreads(int threads)
    {
        if (!IsInitialized) Initialize(new TorchOptions { Threads = threads });
        torch.set_num_threads(threads);
        _applied!.Threads = threads;
    }

    public static string Describe() =>
        IsInitialized
            ? $"libtorch {torch.__version__}, device {Device}, {torch.get_num_threads()} thread(s), OMP_WAIT_POLICY={Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "(default)"}"
            : "libtorch not loaded";

    private static torch.Device ChooseDevice(string? setting)
    {
        string s = (setting ?? "auto").Trim().ToLowerInvariant();
        if (s is "" or "auto")
            return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        if (s == "cpu")
            return torch.CPU;
        if (s.StartsWith("cuda", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new TorchUnavailableException(
                    $"Device '{setting}' was configured but CUDA is not available in this build or on this machine. " +
                    "Set DrWeb:Torch:Device to 'auto' or 'cpu', or build with -p:TorchBackend=cuda on a GPU server.");
            return torch.device(s);
        }
        throw new ArgumentException($"Unknown torch device '{setting}'. Use auto, cpu, cuda or cuda:N.");
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    /// <summary>
    /// Environment.SetEnvironmentVariable only changes .NET's copy of the environment; libgomp reads the C runtime's
    /// copy when libtorch loads, so the variable has to go through libc.
    /// </summary>
    private static void SetNativeEnvironment(string name, string value)
    {
        Environment.SetEnvironmentVariable(name, value);
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
            _ = setenv(name, value, 1);
    }

    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);
}
