using System.Collections.Concurrent;

namespace DrWeb.Server.Training;

/// <summary>
/// The cancellation sources of the runs training in this process, so that a cancel from the page stops the run within
/// one batch. (Another process learns of a cancel through the run's row and Hangfire's job deletion.)
/// </summary>
public sealed class TrainingCancellation
{
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _running = new();

    public CancellationTokenSource Register(Guid runId)
    {
        var source = new CancellationTokenSource();
        _running[runId] = source;
        return source;
    }

    public void Unregister(Guid runId) => _running.TryRemove(runId, out _);

    /// <summary>Cancels the run if it trains in this process; false when it does not.</summary>
    public bool Cancel(Guid runId)
    {
        if (!_running.TryGetValue(runId, out var source)) return false;
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        return true;
    }
}
