using ProspectEvents.Detection;

namespace ProspectEvents.Server.Ingest;

/// <summary>
/// One ingest batch, sorted by prospect and then time (each prospect's observations apply oldest first, and
/// states are read and written in key order), with the fingerprint of every observation. Sorting and hashing need
/// no database, so the ingest loop prepares the next batch while the engine writes the last one.
/// </summary>
public sealed class IngestBatch
{
    /// <summary>A prospect the cache cannot judge: unknown (<see cref="Known"/> null), or an observation that is neither stale nor a repeat.</summary>
    internal sealed record Pending(ProspectKey Key, CachedProspect? Known, ArraySegment<Observation> Observations, ArraySegment<Fingerprint> Fingerprints);

    private readonly Order[] _order;
    private readonly Observation[] _observations;
    private readonly Fingerprint[] _fingerprints;

    // Ties (one prospect, one time) keep input order, as a stable sort would: the first is applied, the rest are stale.
    internal readonly record struct Order(ProspectKey Key, long ObservedAtMs, int Index) : IComparable<Order>
    {
        public int CompareTo(Order other)
        {
            var c = Key.CompareTo(other.Key);
            if (c == 0) c = ObservedAtMs.CompareTo(other.ObservedAtMs);
            return c != 0 ? c : Index.CompareTo(other.Index);
        }
    }

    private IngestBatch(Order[] order, Observation[] observations, Fingerprint[] fingerprints) =>
        (_order, _observations, _fingerprints) = (order, observations, fingerprints);

    public int Count => _observations.Length;

    public static IngestBatch Of(IReadOnlyList<Observation> observations)
    {
        var order = new Order[observations.Count];
        var sorted = new Observation[observations.Count];
        for (var i = 0; i < sorted.Length; i++)
        {
            sorted[i] = observations[i];
            order[i] = new Order(ProspectKey.FromHex(sorted[i].ProspectId), sorted[i].ObservedAt.ToUnixTimeMilliseconds(), i);
        }
        Array.Sort(order, sorted);
        var fingerprints = new Fingerprint[sorted.Length];
        for (var i = 0; i < sorted.Length; i++) fingerprints[i] = Fingerprint.Of(sorted[i]);
        return new IngestBatch(order, sorted, fingerprints);
    }

    /// <summary>
    /// What the cache settled of a batch: the stale count, the repeats with their new times (nothing else of theirs
    /// changed), and the prospects left pending (unknown, or with an observation that is neither stale nor a repeat).
    /// </summary>
    internal sealed record Judgment(int Stale, List<LogTime> Repeats, List<Pending> Pending);

    /// <summary>
    /// The judgment <see cref="IngestEngine.PrepareBatchAsync"/> made, with the cache it was made against and the cache's
    /// <see cref="ProspectCache.Version"/> then; null when none was made. It is still right when the batch is written if
    /// no change since touched this batch's prospects (see <see cref="SharesProspectsWith"/>).
    /// </summary>
    internal (Judgment Judgment, ProspectCache Cache, long Version)? Prepared { get; set; }

    /// <summary>
    /// States read ahead by <see cref="IngestEngine.PrepareBatchAsync"/>, by row number; null when none were. Rows are never
    /// changed once written (a changed state gets a new row), so a state read ahead is right whenever the cache still
    /// names its row when the batch is written; the rows it no longer names are simply not asked for.
    /// </summary>
    internal IReadOnlyDictionary<long, ProspectState>? StatesReadAhead { get; set; }

    /// <summary>
    /// Walks each prospect's observations against the cache while it can: a stale one is counted, a repeat only
    /// advances the time. The first that is neither (or any of a prospect the cache does not know) leaves the
    /// prospect and its remaining observations pending.
    /// </summary>
    internal Judgment JudgeFromCache(ProspectCache cache)
    {
        var stale = 0;
        var repeats = new List<LogTime>(_order.Length);
        var pending = new List<Pending>();
        for (var start = 0; start < _order.Length;)
        {
            var end = End(start);
            if (!cache.TryGet(_order[start].Key, out var known))
            {
                pending.Add(new Pending(_order[start].Key, null, new(_observations, start, end - start), new(_fingerprints, start, end - start)));
                start = end;
                continue;
            }
            var (at, current) = Walk(start, end, known, ref stale);
            if (at < end) pending.Add(new Pending(_order[start].Key, current, new(_observations, at, end - at), new(_fingerprints, at, end - at)));
            else if (current != known) repeats.Add(new LogTime(_order[start].Key, current.ObservedAtMs));
            start = end;
        }
        return new Judgment(stale, repeats, pending);
    }

    /// <summary>The prospects of this batch, in key order: what a fold of it may have changed in the cache.</summary>
    internal BatchKeys Keys => new(_order);

    /// <summary>True when some prospect of this batch is among <paramref name="keys"/> (a merge of two sorted lists).</summary>
    internal bool SharesProspectsWith(BatchKeys keys)
    {
        var other = keys.Order;
        for (int i = 0, j = 0; i < _order.Length && j < other.Length;)
        {
            var c = _order[i].Key.CompareTo(other[j].Key);
            if (c == 0) return true;
            if (c < 0) i++;
            else j++;
        }
        return false;
    }

    /// <summary>A batch's prospects in key order, kept without its observations.</summary>
    internal readonly struct BatchKeys(Order[] order)
    {
        public Order[] Order { get; } = order;
    }

    /// <summary>The end of the prospect's observations starting at <paramref name="start"/>.</summary>
    private int End(int start)
    {
        var end = start + 1;
        while (end < _order.Length && _order[end].Key == _order[start].Key) end++;
        return end;
    }

    /// <summary>
    /// Settles what the cache can of one prospect's observations <c>[start, end)</c>, oldest first: stale ones are
    /// counted, repeats advance the time. Returns the first that is neither (<paramref name="end"/> when none) and
    /// the prospect as known before it.
    /// </summary>
    private (int At, CachedProspect Current) Walk(int start, int end, CachedProspect current, ref int stale)
    {
        var at = start;
        for (; at < end; at++)
        {
            if (_order[at].ObservedAtMs <= current.ObservedAtMs) stale++;
            else if (current.Fingerprint.IsRepeatedBy(_fingerprints[at])) current = current with { ObservedAtMs = _order[at].ObservedAtMs };
            else break;
        }
        return (at, current);
    }
}
