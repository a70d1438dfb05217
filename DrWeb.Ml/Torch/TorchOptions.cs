namespace DrWeb.Ml.Torch;

/// <summary>How libtorch runs in this process. Bound from configuration section <c>DrWeb:Torch</c>.</summary>
public sealed class TorchOptions
{
    /// <summary>
    /// Intra-op threads. 0 means automatic: one per core, less one core left for the web server, image decoding and
    /// background jobs (so a single thread on a 2-core machine; see README, "Threads", for the measurements).
    /// </summary>
    public int Threads { get; set; }

    /// <summary>The thread count that <see cref="Threads"/> = 0 stands for on this machine.</summary>
    public static int AutomaticThreads => Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>
    /// OpenMP wait policy, set in the native environment before libtorch loads. PASSIVE keeps latency steady when
    /// the cores are shared with a web server and background jobs; ACTIVE spin-waits. Empty leaves OpenMP's default.
    /// </summary>
    public string OmpWaitPolicy { get; set; } = "PASSIVE";

    /// <summary><c>auto</c> (CUDA when available, else CPU), <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; set; } = "auto";
}
