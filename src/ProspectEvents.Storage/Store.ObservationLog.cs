using System.Data.Common;
using ProspectEvents.Detection;

namespace ProspectEvents.Storage;

/// <summary>
/// The observation log (migration 0005) and the in-memory <see cref="ProspectCache"/> it feeds.
/// <para>
/// Each ingest batch appends one row listing every prospect it touched with its newest <c>observed_at</c> and the
/// <see cref="Fingerprint"/> of its state: one sequential write of ~70 bytes per observation, where rewriting the
/// state row of each (only to advance its time) cost a random page write each. The state row itself is written only
/// when detection changes it. The cache is the log folded in memory; it is what tells stale and repeated
/// observations apart without a lookup. Processes sharing the database catch up on each other's rows at the start
/// of every batch (batches are serialized by <see cref="IngestLock"/>, so row order is commit order).
/// </para>
/// <para>
/// When a base would halve the log (<see cref="ProspectCache.CompactionDue"/>), the log is compacted: every row is
/// replaced by a base, the whole cache in chunks. A process that meets a base it did not write reloads. A database
/// without a base (a fresh one, or one from before the log) or with fingerprints of another
/// <see cref="Fingerprint.Version"/> is loaded by reading every state and folding the log's times over them.
/// </para>
/// </summary>
public abstract partial class Store
{
    private const string BatchRow = "batch", BaseRow = "base";
    private const int BaseChunkEntries = 16_384;

    // One ingest batch at a time per process: the cache is updated only after its batch commits.
    private readonly SemaphoreSlim _ingestGate = new(1, 1);
    private ProspectCache? _cache;

    /// <summary>Log bytes a compaction must save at least (tests lower it to compact small logs).</summary>
    internal long MinimumCompactionBytes { get; set; } = 16L << 20;

    private long _ingestBatches;

    /// <summary>Ingest batches this store has begun: a caller that sees it unchanged over a while knows ingest was idle.</summary>
    public long IngestBatches => Interlocked.Read(ref _ingestBatches);

    /// <summary>
    /// Drops the in-memory prospect cache if no batch began since <see cref="IngestBatches"/> read
    /// <paramref name="batchesSeen"/>; the next batch reloads it from the log. True when a cache was dropped.
    /// </summary>
    public async Task<bool> ReleaseIngestCacheAsync(long batchesSeen, CancellationToken cancellationToken)
    {
        await _ingestGate.WaitAsync(cancellationToken);
        try
        {
            if (_cache is null || IngestBatches != batchesSeen) return false;
            DropCache();
            return true;
        }
        finally
        {
            _ingestGate.Release();
        }
    }

    /// <summary>The cache, caught up with every log row committed by any process. Call under <see cref="IngestLock"/>.</summary>
    private async Task<ProspectCache> SyncCacheAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _ingestBatches);
        if (_cache is { } cache)
        {
            await using var command = Command(connection, transaction,
                "SELECT seq, kind, fingerprint_version, entries, repeats FROM observation_log WHERE seq > @last ORDER BY seq");
            AddParameter(command, "@last", cache.LastSeq);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var caughtUp = true;
            byte[] entryBuffer = [], repeatBuffer = [];
            while (await reader.ReadAsync(cancellationToken))
            {
                // A base (another process compacted) or a row of another fingerprint version: reload instead.
                if (reader.GetString(1) != BatchRow || reader.GetInt32(2) != Fingerprint.Version)
                {
                    caughtUp = false;
                    break;
                }
                var (seq, entries, repeats) = (reader.GetInt64(0), ReadBlob(reader, 3, ref entryBuffer), ReadBlob(reader, 4, ref repeatBuffer));
                lock (cache.Gate) cache.Fold(seq, isBase: false, entries.Span, repeats.Span);
            }
            if (caughtUp) return cache;
        }
        _supersededStates = null; // counted again once the load is committed
        DropCache(); // before loading the new one: two caches of a million prospects would not fit the memory target
        return _cache = await LoadCacheAsync(connection, transaction, cancellationToken);
    }

    private async Task<ProspectCache> LoadCacheAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        // A row of another fingerprint version (say, an older process still ingesting during a rolling upgrade) may
        // hold a change the other rows' fingerprints don't know: then trust no fingerprint of the log, only its times.
        var mixed = await CountAsync(connection, transaction, $"SELECT COUNT(*) FROM observation_log WHERE fingerprint_version <> {Fingerprint.Version}", cancellationToken) > 0;
        bool based;
        await using (var first = Command(connection, transaction, "SELECT kind FROM observation_log ORDER BY seq LIMIT 1"))
        await using (var reader = await first.ExecuteReaderAsync(cancellationToken))
            based = !mixed && await reader.ReadAsync(cancellationToken) && reader.GetString(0) == BaseRow;
        // Without a usable base, start from the states (every prospect has one) and fold the log over them. With one,
        // make room for every full entry of the log: the rows since the base list the prospects first seen since, and
        // growing a million-entry cache while loading it took a fifth of the load. Prospects listed twice make it
        // larger than needed, twice at most (compaction keeps the log under two entries a prospect).
        var cache = based
            ? new ProspectCache(await CountAsync(connection, transaction, $"SELECT COALESCE(SUM(length(entries)), 0) / {LogEntry.Size} FROM observation_log", cancellationToken))
            : await LoadStatesIntoCacheAsync(connection, transaction, cancellationToken);

        // Read into two buffers reused row after row: a base row is a megabyte, and an array per row made the load run
        // several full collections.
        byte[] entries = [], repeats = [];
        await using var command = Command(connection, transaction, "SELECT seq, kind, entries, repeats FROM observation_log ORDER BY seq");
        await using var rows = await command.ExecuteReaderAsync(cancellationToken);
        while (await rows.ReadAsync(cancellationToken))
        {
            cache.Fold(rows.GetInt64(0), rows.GetString(1) == BaseRow, ReadBlob(rows, 2, ref entries).Span, ReadBlob(rows, 3, ref repeats).Span, timesOnly: mixed);
        }
        return cache;
    }

    /// <summary>A blob column's bytes, read into <paramref name="buffer"/> (replaced by a larger one when too small).</summary>
    private static ReadOnlyMemory<byte> ReadBlob(DbDataReader reader, int ordinal, ref byte[] buffer)
    {
        var length = checked((int)reader.GetBytes(ordinal, 0, null, 0, 0));
        if (buffer.Length < length) buffer = new byte[length];
        if (reader.GetBytes(ordinal, 0, buffer, 0, length) != length) throw new InvalidDataException($"A log blob of {length} bytes read short.");
        return buffer.AsMemory(0, length);
    }

    private async Task<ProspectCache> LoadStatesIntoCacheAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        var cache = new ProspectCache(await CountAsync(connection, transaction, $"SELECT COUNT(*) FROM {CurrentStatesSql}", cancellationToken));
        await using var command = Command(connection, transaction, $"SELECT s.state_pk, prospect_id, {StateColumns} FROM {CurrentStatesSql}");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var state = ReadState(reader, 2);
            cache.Set(ProspectKey.Read((byte[])reader.GetValue(1)), new CachedProspect(ToUnixMs(state.ObservedAt), reader.GetInt64(0), Fingerprint.Of(state)));
        }
        return cache;
    }

    // Sizes the cache up front: growing a dictionary of a million entries step by step leaves twice that in garbage.
    private async Task<int> CountAsync(DbConnection connection, DbTransaction transaction, string sql, CancellationToken cancellationToken) =>
        checked((int)await ScalarAsync(connection, transaction, sql, cancellationToken));

    /// <summary>Appends one row: full entries and repeats' times (a base has no repeats); returns its sequence number.</summary>
    private async Task<long> AppendLogAsync(
        DbConnection connection, DbTransaction transaction, string kind, byte[] entries, byte[] repeats, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction,
            "INSERT INTO observation_log (kind, fingerprint_version, entries, repeats) VALUES (@kind, @version, @entries, @repeats) RETURNING seq");
        AddParameter(command, "@kind", kind);
        AddParameter(command, "@version", Fingerprint.Version);
        AddParameter(command, "@entries", entries);
        AddParameter(command, "@repeats", repeats);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Replaces the whole log by a base of the cache once that halves it at least. Called after a
    /// batch committed, so a failure here must not fail that batch: the cache is dropped (the next batch reloads it)
    /// and the next batch tries again.
    /// </summary>
    private async Task CompactLogIfDueAsync(CancellationToken cancellationToken)
    {
        if (_cache is not { } due || !due.CompactionDue(MinimumCompactionBytes)) return;
        long lastSeq;
        try
        {
            lastSeq = await CompactLogAsync(cancellationToken);
        }
        catch (Exception e)
        {
            // Cancelled too: the batch before is committed and must be reported so.
            if (e is not OperationCanceledException) StoreLog.CompactionFailed(Logger, e);
            DropCache();
            return;
        }
        _cache?.Rebased(lastSeq); // only a committed base moves the cache on
    }

    // Part of an ingest run, so a bulk write: SQLite leaves its checkpoint to the background below the bulk backstop,
    // where a request's 1,000-page threshold made the commit copy the WAL inline (a 1M-entry compaction took
    // 420-480 ms with it, 330-440 ms without).
    private Task<long> CompactLogAsync(CancellationToken cancellationToken) =>
        BulkWriteAsync(async (connection, transaction) =>
        {
            await LockAsync(connection, transaction, IngestLock, cancellationToken);
            var cache = await SyncCacheAsync(connection, transaction, cancellationToken);
            await using (var delete = Command(connection, transaction, "DELETE FROM observation_log"))
                await delete.ExecuteNonQueryAsync(cancellationToken);
            // Written through one reused buffer: a base is as large as the cache, its garbage would be too.
            var seq = cache.LastSeq;
            var left = cache.Count;
            var buffer = new byte[Math.Min(BaseChunkEntries, left) * LogEntry.Size];
            var at = 0;
            foreach (var entry in cache.Entries())
            {
                entry.Write(buffer.AsSpan(at));
                at += LogEntry.Size;
                left--;
                if (at < buffer.Length && left > 0) continue;
                seq = await AppendLogAsync(connection, transaction, BaseRow, at == buffer.Length ? buffer : buffer[..at], [], cancellationToken);
                at = 0;
            }
            return seq;
        }, cancellationToken);
}
