using System.Collections.Concurrent;

namespace ProspectEvents.Server.Auth;

/// <summary>
/// Exact sliding windows in this process's memory, one per id: each holds the times granted in the last window,
/// oldest first. For what may be limited per process: failed authentications per address, and keys while the store
/// cannot be reached.
/// </summary>
internal sealed class LocalWindows(TimeProvider clock, TimeSpan window)
{
    private readonly ConcurrentDictionary<string, Queue<long>> _granted = new(StringComparer.Ordinal);

    public int Count => _granted.Count;

    public bool Contains(string id) => _granted.ContainsKey(id);

    /// <summary>Grants <paramref name="id"/> a request if its window has fewer than <paramref name="limit"/>; counts it when <paramref name="consume"/>.</summary>
    public RateDecision Take(string id, int limit, bool consume)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var windowMs = (long)window.TotalMilliseconds;
        var times = _granted.GetOrAdd(id, _ => new Queue<long>());
        lock (times)
        {
            while (times.Count > 0 && times.Peek() <= now - windowMs) times.Dequeue();
            var granted = times.Count < limit;
            if (granted && consume) times.Enqueue(now);
            // The next permit frees up when the oldest request in the window leaves it.
            var resetMs = times.Count == 0 ? 0 : times.Peek() + windowMs - now;
            return new RateDecision(granted, limit, limit - times.Count, (int)Math.Ceiling(resetMs / 1000.0));
        }
    }

    /// <summary>Drops the ids that made no request in the last window.</summary>
    public void ForgetIdle()
    {
        var idleBefore = clock.GetUtcNow().ToUnixTimeMilliseconds() - (long)window.TotalMilliseconds;
        foreach (var (id, times) in _granted)
        {
            lock (times)
            {
                if (times.Count == 0 || times.Last() <= idleBefore) _granted.TryRemove(id, out _);
            }
        }
    }
}
