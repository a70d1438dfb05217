using SixLabors.ImageSharp;

namespace DrWeb.Server.Services;

/// <summary>
/// Hands memory back to the system once a burst of uploads is over: ImageSharp's retained buffers are released and
/// the GC compacts and decommits (an aggressive collection). Without it the process keeps the burst's peak for hours.
/// One trim runs a few seconds after the server last became idle; a new burst in the meantime postpones it.
/// </summary>
public sealed class IdleMemoryTrim(ILogger<IdleMemoryTrim> logger)
{
    public static readonly TimeSpan Delay = TimeSpan.FromSeconds(5);
    private int _scheduled;

    /// <summary>Count of trims run, for tests and logs.</summary>
    public int Trims { get; private set; }

    /// <param name="busy">Whether work is still in progress when the delay has passed.</param>
    public void Schedule(Func<bool> busy)
    {
        if (Interlocked.Exchange(ref _scheduled, 1) == 1) return;
        _ = Task.Run(async () =>
        {
            await Task.Delay(Delay);
            Interlocked.Exchange(ref _scheduled, 0);
            if (busy()) return; // that burst's end schedules its own trim
            long before = Environment.WorkingSet;
            Configuration.Default.MemoryAllocator.ReleaseRetainedResources();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            Trims++;
            logger.LogInformation("Idle: memory trimmed from {Before} MB to {After} MB", before >> 20, Environment.WorkingSet >> 20);
        });
    }
}
