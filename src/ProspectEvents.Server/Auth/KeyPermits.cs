using ProspectEvents.Storage;

namespace ProspectEvents.Server.Auth;

/// <summary>
/// What this process holds of one key's permits: the chunk it took from the store for the current segment, and what
/// the store said of the whole window then. Spent without the store until the chunk runs out or the segment ends.
/// </summary>
internal sealed class KeyPermits
{
    /// <summary>One store round trip at a time per key: requests arriving meanwhile wait and spend what it brings.</summary>
    public SemaphoreSlim Refill { get; } = new(1, 1);

    private int _held;
    private long _segment = -1;
    private int _windowTaken;
    private long _freesAtMs;
    private long _refusedUntilMs;

    /// <summary>
    /// Decides without the store: spends a held permit of the current segment, or refuses while the store said the
    /// window is full. False when only the store can tell.
    /// </summary>
    public bool TryDecide(long nowMs, RateLimitingOptions options, out RateDecision decision)
    {
        var limit = options.PermitsPerWindow;
        lock (this)
        {
            if (_held > 0 && _segment == nowMs / options.SegmentMilliseconds)
            {
                _held--;
                // Others' takes since this process's last one are not seen here: Remaining may lag them by their chunks.
                var remaining = Math.Clamp(limit - _windowTaken + _held, 0, limit);
                decision = new RateDecision(true, limit, remaining, SecondsUntil(_freesAtMs, nowMs));
                return true;
            }
            if (nowMs < _refusedUntilMs)
            {
                decision = new RateDecision(false, limit, 0, SecondsUntil(_freesAtMs, nowMs));
                return true;
            }
        }
        decision = default;
        return false;
    }

    /// <summary>Hands over the permits of an ended segment, to give back to the store with the next take.</summary>
    public UnspentPermits? TakeUnspent(long segment)
    {
        lock (this)
        {
            if (_held == 0 || _segment == segment) return null;
            var unspent = new UnspentPermits(_segment, _held);
            _held = 0;
            return unspent;
        }
    }

    /// <summary>Holds what the store granted for <paramref name="segment"/>; when it granted nothing, refuses without it until permits may be back.</summary>
    public void Took(PermitTake take, long segment, RateLimitingOptions options)
    {
        lock (this)
        {
            _held = take.Granted;
            _segment = segment;
            _windowTaken = take.WindowTaken;
            _freesAtMs = (take.OldestSegment + RateLimitingOptions.SegmentsPerWindow) * options.SegmentMilliseconds;
            // Asked again at the next segment at the latest: other processes give back what they did not spend then.
            _refusedUntilMs = take.Granted > 0 ? 0 : Math.Min(_freesAtMs, (segment + 1) * options.SegmentMilliseconds);
        }
    }

    private static int SecondsUntil(long atMs, long nowMs) => (int)Math.Ceiling(Math.Max(0, atMs - nowMs) / 1000.0);
}
