using System.Data.Common;
using ProspectEvents.Detection;

namespace ProspectEvents.Storage;

/// <summary>A state to write: its row number, the prospect and the state.</summary>
public readonly record struct StateRow(long StatePk, ProspectKey Key, ProspectState State);

/// <summary>Takes one current state row: its number, its prospect and the state.</summary>
public delegate void CurrentStateHandler(long statePk, ProspectKey key, ProspectState state);

/// <summary>Takes one observation-log row (the spans live until it returns); false stops the reading.</summary>
public delegate bool LogRowHandler(long seq, string kind, int fingerprintVersion, ReadOnlySpan<byte> entries, ReadOnlySpan<byte> repeats);

/// <summary>
/// One write transaction over prospect states, events and their deliveries, and the observation log, opened by
/// <see cref="Store.WriteStatesAsync{T}"/>: the primitives ingest composes into a batch. Everything here commits or
/// rolls back together; what to write is the caller's decision.
/// </summary>
public sealed class StateTransaction
{
    private readonly Store _store;
    private readonly DbConnection _connection;
    private readonly DbTransaction _transaction;

    internal StateTransaction(Store store, DbConnection connection, DbTransaction transaction) =>
        (_store, _connection, _transaction) = (store, connection, transaction);

    /// <summary>Events this transaction stored (not those already stored before it).</summary>
    internal int InsertedEvents { get; private set; }

    /// <summary>
    /// Serializes ingest across processes until the transaction ends, so a batch reads a state another batch is
    /// writing only after that batch commits, and log rows are numbered in commit order (SQLite's single writer does
    /// this already; PostgreSQL takes one advisory lock).
    /// </summary>
    public Task LockIngestAsync(CancellationToken cancellationToken) => _store.LockIngestAsync(_connection, _transaction, cancellationToken);

    /// <summary>The stored states of the given rows, by row number (superseded ones included: rows never change).</summary>
    public Task<Dictionary<long, ProspectState>> LoadStatesAsync(IReadOnlyCollection<long> statePks, CancellationToken cancellationToken) =>
        _store.LoadStatesAsync(_connection, _transaction, statePks, cancellationToken);

    /// <summary>How many states are current (not superseded).</summary>
    public Task<int> CountCurrentStatesAsync(CancellationToken cancellationToken) => _store.CountCurrentStatesAsync(_connection, _transaction, cancellationToken);

    /// <summary>Hands every current state to <paramref name="handle"/>.</summary>
    public Task ReadCurrentStatesAsync(CurrentStateHandler handle, CancellationToken cancellationToken) =>
        _store.ReadCurrentStatesAsync(_connection, _transaction, handle, cancellationToken);

    /// <summary>The row number after the highest one written, to append under (call under <see cref="LockIngestAsync"/>).</summary>
    public Task<long> NextStatePkAsync(CancellationToken cancellationToken) => _store.NextStatePkAsync(_connection, _transaction, cancellationToken);

    /// <summary>Inserts new state rows; a changed state is a new row, never an update.</summary>
    public Task AppendStatesAsync(IReadOnlyList<StateRow> rows, CancellationToken cancellationToken) =>
        rows.Count == 0 ? Task.CompletedTask : _store.AppendStatesAsync(_connection, _transaction, rows, cancellationToken);

    /// <summary>Lists rows replaced by newer ones: readers of all current states skip them, a reclaim deletes them.</summary>
    public Task SupersedeStatesAsync(IReadOnlyCollection<long> statePks, CancellationToken cancellationToken) =>
        _store.SupersedeStatesAsync(_connection, _transaction, statePks, cancellationToken);

    /// <summary>
    /// Inserts the events not stored yet and matches each to the enrollments that monitor it (its deliveries, the
    /// webhook outbox); returns the ids of the new ones. An event stored before got its matches then.
    /// </summary>
    public async Task<IReadOnlyList<string>> InsertAndMatchEventsAsync(List<(byte[] ProspectId, CareerEvent Event)> events, DateTimeOffset detectedAt, CancellationToken cancellationToken)
    {
        var inserted = await _store.InsertEventsAsync(_connection, _transaction, events, detectedAt, cancellationToken);
        await _store.MatchEventsAsync(_connection, _transaction, inserted, cancellationToken);
        InsertedEvents += inserted.Count;
        return inserted;
    }

    /// <summary>Hands the log rows after <paramref name="afterSeq"/> to <paramref name="handle"/>, in order.</summary>
    public Task ReadLogAsync(long afterSeq, LogRowHandler handle, CancellationToken cancellationToken) =>
        _store.ReadLogAsync(_connection, _transaction, afterSeq, handle, cancellationToken);

    /// <summary>The kind of the log's first row; null when the log is empty.</summary>
    public Task<string?> FirstLogKindAsync(CancellationToken cancellationToken) => _store.FirstLogKindAsync(_connection, _transaction, cancellationToken);

    /// <summary>True when some log row was written with another fingerprint version.</summary>
    public Task<bool> LogHoldsOtherVersionsAsync(int fingerprintVersion, CancellationToken cancellationToken) =>
        _store.LogHoldsOtherVersionsAsync(_connection, _transaction, fingerprintVersion, cancellationToken);

    /// <summary>The bytes of every row's <c>entries</c>, together.</summary>
    public Task<long> LogEntryBytesAsync(CancellationToken cancellationToken) => _store.LogEntryBytesAsync(_connection, _transaction, cancellationToken);

    /// <summary>Appends one log row; returns its sequence number.</summary>
    public Task<long> AppendLogAsync(string kind, int fingerprintVersion, byte[] entries, byte[] repeats, CancellationToken cancellationToken) =>
        _store.AppendLogAsync(_connection, _transaction, kind, fingerprintVersion, entries, repeats, cancellationToken);

    /// <summary>Deletes every log row.</summary>
    public Task DeleteLogAsync(CancellationToken cancellationToken) => _store.DeleteLogAsync(_connection, _transaction, cancellationToken);
}
