using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Extensions.Options;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Auth;

/// <summary>
/// The per-key limit, held in the store so that every process on the database grants a key its permits in total.
/// A process takes a key's permits in chunks (<see cref="RateLimitingOptions.Chunk"/>) counted in the current segment of
/// the window, spends them locally, and goes back to the store when they run out or the segment ends (giving back what
/// it did not spend): a store round trip per chunk and segment, not per request. When the store fails, the process
/// limits keys on its own, as if it were alone, and asks the store again a segment later.
/// </summary>
public sealed class KeyRateLimiter(Store store, IOptions<RateLimitingOptions> options, TimeProvider clock, ILogger<KeyRateLimiter> logger)
{
    private readonly ConcurrentDictionary<string, KeyPermits> _keys = new(StringComparer.Ordinal);
    private readonly LocalWindows _alone = new(clock, options.Value.Window);

    // While the store fails: when to ask it again (Unix ms); 0 while it answers.
    private long _storeRetryAtMs;

    public async ValueTask<RateDecision> AcquireAsync(string keyId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var permits = _keys.GetOrAdd(keyId, static _ => new KeyPermits());
        if (permits.TryDecide(NowMs(), settings, out var decision)) return decision;

        await permits.Refill.WaitAsync(cancellationToken);
        try
        {
            var now = NowMs();
            if (permits.TryDecide(now, settings, out decision)) return decision; // a request ahead of this one refilled
            var retryAt = Volatile.Read(ref _storeRetryAtMs);
            if (now < retryAt) return _alone.Take(keyId, settings.PermitsPerWindow, consume: true);

            var segment = now / settings.SegmentMilliseconds;
            PermitTake take;
            try
            {
                take = await store.TakePermitsAsync(keyId, segment, RateLimitingOptions.SegmentsPerWindow, settings.PermitsPerWindow, settings.Chunk,
                    permits.TakeUnspent(segment), cancellationToken);
            }
            catch (DbException e)
            {
                // Failing open, per process: a database that cannot count must not turn every request into a 5xx.
                var wait = TimeSpan.FromMilliseconds(Math.Max(1000, settings.SegmentMilliseconds));
                Volatile.Write(ref _storeRetryAtMs, now + (long)wait.TotalMilliseconds);
                Log.RateLimitStoreFailed(logger, e, wait);
                return _alone.Take(keyId, settings.PermitsPerWindow, consume: true);
            }
            if (retryAt != 0 && Interlocked.CompareExchange(ref _storeRetryAtMs, 0, retryAt) == retryAt) Log.RateLimitStoreBack(logger);
            permits.Took(take, segment, settings);
            permits.TryDecide(now, settings, out decision);
            return decision;
        }
        finally
        {
            permits.Refill.Release();
        }
    }

    private long NowMs() => clock.GetUtcNow().ToUnixTimeMilliseconds();
}
