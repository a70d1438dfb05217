using System.Runtime.InteropServices;
using SixLabors.ImageSharp;

namespace DrWeb.Server.Platform;

/// <summary>
/// Hands memory back to the system once a burst of uploads is over: ImageSharp's retained buffers are released, the
/// GC compacts and decommits (an aggressive collection), and glibc returns the free pages of its native heaps, where
/// libtorch and the image codecs allocate (<c>malloc_trim</c>). Without it the process keeps the burst's peak for hours.
/// One trim runs a few seconds after the server last became idle; a new burst in the meantime postpones it.
/// </summary>
public sealed class IdleMemoryTrim(Microsoft.Extensions.Options.IOptions<DrWeb.Server.Platform.DrWebOptions> options, ILogger<IdleMemoryTrim> logger)
{
    public static readonly TimeSpan Delay = TimeSpan.FromSeconds(5);

    private int _scheduled, _busyTrims;
    private long _lastBusyTrim = Environment.TickCount64 - 1000;

    /// <summary>Native trims made under load so far.</summary>
    public int BusyTrims => Volatile.Read(ref _busyTrims);

    /// <summary>
    /// Between gradings under steady load the server is never idle, yet glibc keeps the freed buffers of every
    /// grading (30 camera photographs in a row took the RSS from 1.1 to 1.8 GB, all of it returned by a trim). So the
    /// native heaps are trimmed after a grading while the process is above <c>Screening:TrimAboveMegabytes</c>, at
    /// most once a second. It costs speed, since the next grading faults its buffers in again: 30 camera photographs
    /// took 31.8 s with it and 17.7 s without (0 turns it off).
    /// </summary>
    public void AfterWork()
    {
        int above = options.Value.Screening.TrimAboveMegabytes;
        if (above <= 0 || Environment.WorkingSet < above * 1024L * 1024) return;
        long now = Environment.TickCount64, last = Interlocked.Read(ref _lastBusyTrim);
        if (now - last < 1000 || Interlocked.CompareExchange(ref _lastBusyTrim, now, last) != last) return;
        TrimNativeHeap();
        Interlocked.Increment(ref _busyTrims);
    }

    /// <summary>
    /// Caps glibc's per-thread native heaps (8 per core by default), which otherwise each keep their own high-water
    /// mark after a burst. Call once at start-up, before the work threads allocate. (Fixing glibc's mmap threshold at
    /// 1 MB as well lowered a 100-photo burst's peak from 2.1-2.3 GB to 1.8 GB but made it 2.3 times slower, as every
    /// tensor buffer became a fresh mapping; not done.)
    /// </summary>
    public static void LimitNativeHeaps()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            const int M_ARENA_MAX = -8;
            Mallopt(M_ARENA_MAX, Math.Max(2, Environment.ProcessorCount));
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (musl, for example): nothing to cap.
        }
    }

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
            TrimNativeHeap();
            logger.LogInformation("Idle: memory trimmed from {Before} MB to {After} MB", before >> 20, Environment.WorkingSet >> 20);
        });
    }

    private static void TrimNativeHeap()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int param, int value);
}
