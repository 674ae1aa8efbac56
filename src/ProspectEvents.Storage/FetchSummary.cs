namespace ProspectEvents.Storage;

/// <summary>
/// SQLite's event_summary table (migration 0017) in memory: for each slot of prospects, the newest minute their
/// events are keyed at. A fetch skips the seek of a prospect whose slot has nothing from its window's first minute
/// on. Only ever errs towards seeking: a slot's minute only grows, and it is shared by the prospects of the slot.
/// 4 bytes a slot, 16 MiB in all, whatever the number of events.
/// </summary>
internal sealed class FetchSummary
{
    /// <summary>A fetch key shifted right by this is its slot: the top 22 of its 30 prospect bits.</summary>
    public const int SlotShift = 41;

    private const int Slots = 1 << (63 - SlotShift);

    // The newest minute + 1 of each slot: 0 for a slot without events.
    private readonly int[] _newest = new int[Slots];
    private readonly Lock _gate = new();
    private long _seq = -1;

    /// <summary>The highest seq of event_summary folded in; -1 before the first fold.</summary>
    public long Seq => Interlocked.Read(ref _seq);

    /// <summary>Whether the prospects of <paramref name="fetchKey"/>'s slot may have events keyed at <paramref name="minute"/> or later.</summary>
    public bool MayHaveFrom(long fetchKey, long minute) => Volatile.Read(ref _newest[fetchKey >>> SlotShift]) > minute;

    /// <summary>
    /// Folds in the rows after <see cref="Seq"/> (<paramref name="rows"/>: slot, max_minute, seq where seq &gt; ?1) up to
    /// <paramref name="latest"/>, read in the caller's snapshot. False without folding when another caller is
    /// folding: the caller then seeks every prospect rather than wait.
    /// </summary>
    public bool TryCatchUp(SqliteStatement rows, long latest)
    {
        if (!_gate.TryEnter()) return false;
        try
        {
            if (latest <= _seq) return true; // another caller got there first
            rows.Bind(1, _seq);
            try
            {
                while (rows.Step())
                {
                    var slot = (int)rows.Int64(0);
                    var newest = (int)rows.Int64(1) + 1;
                    if (newest > _newest[slot]) Volatile.Write(ref _newest[slot], newest);
                }
            }
            finally
            {
                rows.Reset();
            }
            // Published after the slots: a reader that sees this seq sees every slot it covers.
            Interlocked.Exchange(ref _seq, latest);
            return true;
        }
        finally
        {
            _gate.Exit();
        }
    }
}
