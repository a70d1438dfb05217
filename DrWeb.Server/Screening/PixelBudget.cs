namespace DrWeb.Server.Screening;

/// <summary>
/// A bound on the pixels held decoded at once, across all uploads. An upload reserves its pixel count (read from the
/// header) before it is decoded and returns it when its image is disposed; uploads that do not fit wait their turn,
/// first come first served, holding only their compressed bytes. One image larger than the whole budget still runs,
/// alone.
/// </summary>
public sealed class PixelBudget(long capacity)
{
    private readonly object _gate = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private long _free = capacity;

    public long Capacity { get; } = capacity;

    /// <summary>Pixels reserved right now.</summary>
    public long InUse
    {
        get { lock (_gate) return Capacity - _free; }
    }

    public async Task<IDisposable> ReserveAsync(long pixels, CancellationToken token = default)
    {
        long need = Math.Clamp(pixels, 0, Capacity);
        Waiter waiter;
        LinkedListNode<Waiter> node;
        lock (_gate)
        {
            if (_waiters.Count == 0 && _free >= need)
            {
                _free -= need;
                return new Reservation(this, need);
            }
            waiter = new Waiter(need, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            node = _waiters.AddLast(waiter);
        }
        await using (token.Register(() =>
                     {
                         lock (_gate)
                         {
                             if (node.List is null) return;
                             _waiters.Remove(node);
                         }
                         waiter.Granted.TrySetCanceled(token);
                     }))
        {
            await waiter.Granted.Task;
        }
        return new Reservation(this, need);
    }

    private void Return(long pixels)
    {
        var granted = new List<Waiter>();
        lock (_gate)
        {
            _free += pixels;
            while (_waiters.First is { } first && _free >= first.Value.Need)
            {
                _free -= first.Value.Need;
                _waiters.RemoveFirst();
                granted.Add(first.Value);
            }
        }
        foreach (var w in granted) w.Granted.TrySetResult();
    }

    private sealed record Waiter(long Need, TaskCompletionSource Granted);

    private sealed class Reservation(PixelBudget budget, long pixels) : IDisposable
    {
        private int _returned;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _returned, 1) == 0) budget.Return(pixels);
        }
    }
}
