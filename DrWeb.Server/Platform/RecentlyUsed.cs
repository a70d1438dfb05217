namespace DrWeb.Server.Platform;

/// <summary>
/// A small thread-safe cache that keeps at most <paramref name="capacity"/> entries and forgets the least recently
/// used first: for results that are costly to compute and cheap to keep a few of (heatmaps made on demand).
/// </summary>
public sealed class RecentlyUsed<TKey, TValue>(int capacity) where TKey : notnull
{
    private readonly object _gate = new();
    private readonly Dictionary<TKey, (TValue Value, long Used)> _entries = [];
    private long _clock;

    public bool TryGet(TKey key, out TValue value)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var hit))
            {
                _entries[key] = (hit.Value, ++_clock);
                value = hit.Value;
                return true;
            }
        }
        value = default!;
        return false;
    }

    public void Set(TKey key, TValue value)
    {
        lock (_gate)
        {
            _entries[key] = (value, ++_clock);
            if (_entries.Count > capacity) _entries.Remove(_entries.MinBy(e => e.Value.Used).Key);
        }
    }
}
