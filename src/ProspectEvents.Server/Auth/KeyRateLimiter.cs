using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace ProspectEvents.Server.Auth;

/// <summary>
/// An exact sliding-window limit per API key: the times of the requests granted in the last window, oldest first.
/// Memory per key is bounded by the permits (and by the traffic actually seen in one window).
/// Limits are per process; several processes behind a balancer each grant the full limit.
/// </summary>
public sealed class KeyRateLimiter(IOptions<RateLimitingOptions> options, TimeProvider clock)
{
    public readonly record struct Decision(bool Granted, int Limit, int Remaining, int ResetSeconds);

    private readonly ConcurrentDictionary<string, Queue<long>> _granted = new(StringComparer.Ordinal);

    public Decision Acquire(string keyId)
    {
        var limit = options.Value.PermitsPerWindow;
        var window = (long)options.Value.Window.TotalMilliseconds;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var times = _granted.GetOrAdd(keyId, _ => new Queue<long>());
        lock (times)
        {
            while (times.Count > 0 && times.Peek() <= now - window) times.Dequeue();
            var granted = times.Count < limit;
            if (granted) times.Enqueue(now);
            // The next permit frees up when the oldest request in the window leaves it.
            var resetMs = times.Count == 0 ? 0 : times.Peek() + window - now;
            return new Decision(granted, limit, limit - times.Count, (int)Math.Ceiling(resetMs / 1000.0));
        }
    }
}
