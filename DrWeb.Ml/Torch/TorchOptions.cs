namespace DrWeb.Ml.Torch;

/// <summary>How libtorch runs in this process. Bound from configuration section <c>DrWeb:Torch</c>.</summary>
public sealed class TorchOptions
{
    /// <summary>Intra-op threads. 0 means one per core.</summary>
    public int Threads { get; set; }

    /// <summary>
    /// OpenMP wait policy, set in the native environment before libtorch loads. PASSIVE keeps latency steady when
    /// the cores are shared with a web server and background jobs; ACTIVE spin-waits. Empty leaves OpenMP's default.
    /// </summary>
    public string OmpWaitPolicy { get; set; } = "PASSIVE";

    /// <summary><c>auto</c> (CUDA when available, else CPU), <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; set; } = "auto";
}
