using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace ProspectEvents.Server.Auth;

/// <summary>
/// Exact sliding-window limits: per API key on the requests it makes, and per client address on its failed
/// authentications, so a key-guessing loop is slowed down without touching any real key's limit. Each holds the
/// times granted in the last window, oldest first. Limits are per process; several processes behind a balancer each
/// grant the full limit.
/// </summary>
public sealed class KeyRateLimiter(IOptions<RateLimitingOptions> options, TimeProvider clock)
{
    public readonly record struct Decision(bool Granted, int Limit, int Remaining, int ResetSeconds);

    // Addresses come and go (a flood may come from many): past this many, those idle for a window are dropped.
    private const int AddressesKept = 10_000;

    private readonly ConcurrentDictionary<string, Queue<long>> _granted = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Queue<long>> _failures = new(StringComparer.Ordinal);

    public Decision Acquire(string keyId) => Take(_granted, keyId, options.Value.PermitsPerWindow, consume: true);

    /// <summary>Seconds until <paramref name="address"/> may try to authenticate again, or null while it may.</summary>
    public int? FailuresExhausted(string address)
    {
        if (!_failures.ContainsKey(address)) return null;
        var decision = Take(_failures, address, options.Value.FailedAuthPermitsPerWindow, consume: false);
        return decision.Remaining > 0 ? null : Math.Max(1, decision.ResetSeconds);
    }

    /// <summary>Counts a failed authentication of <paramref name="address"/>.</summary>
    public void RecordFailure(string address)
    {
        if (_failures.Count > AddressesKept) ForgetIdleAddresses();
        Take(_failures, address, options.Value.FailedAuthPermitsPerWindow, consume: true);
    }

    private Decision Take(ConcurrentDictionary<string, Queue<long>> windows, string id, int limit, bool consume)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var window = (long)options.Value.Window.TotalMilliseconds;
        var times = windows.GetOrAdd(id, _ => new Queue<long>());
        lock (times)
        {
            while (times.Count > 0 && times.Peek() <= now - window) times.Dequeue();
            var granted = times.Count < limit;
            if (granted && consume) times.Enqueue(now);
            // The next permit frees up when the oldest request in the window leaves it.
            var resetMs = times.Count == 0 ? 0 : times.Peek() + window - now;
            return new Decision(granted, limit, limit - times.Count, (int)Math.Ceiling(resetMs / 1000.0));
        }
    }

    private void ForgetIdleAddresses()
    {
        var idleBefore = clock.GetUtcNow().ToUnixTimeMilliseconds() - (long)options.Value.Window.TotalMilliseconds;
        foreach (var (address, times) in _failures)
        {
            lock (times)
            {
                if (times.Count == 0 || times.Last() <= idleBefore) _failures.TryRemove(address, out _);
            }
        }
    }
}
