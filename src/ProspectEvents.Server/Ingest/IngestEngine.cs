using System.Collections.ObjectModel;
using System.Data.Common;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ProspectEvents.Detection;
using ProspectEvents.Server.Telemetry;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Ingest;

/// <summary>What applying a batch of observations did.</summary>
public sealed record IngestCounts(int Observations, int Stale, int Events);

/// <summary>
/// Turns batches of observations into committed states, events and observation-log rows, one transaction a batch, so a
/// crash leaves either all of a batch or none of it. It judges most observations from its in-memory
/// <see cref="ProspectCache"/> alone: stale ones (not newer than what is known) and repeats (every known field hashes as
/// the state's) read and write no state. The rest load their state, go through <see cref="ChangeDetector"/>, and are
/// appended when they changed. The cache is the observation log folded in memory, caught up with the rows of other
/// processes at the start of every batch; the log is compacted and superseded states reclaimed between batches.
/// One per store and process: the cache is shared by every ingest of the process.
/// </summary>
public sealed class IngestEngine(Store store, ILogger? logger = null)
{
    private const string BatchRow = "batch", BaseRow = "base";
    private const int BaseChunkEntries = 16_384;

    // States read per statement when not read ahead: per-row statements cost more than the rows.
    private const int StateChunk = 250;

    // Enough for the batches written while one is prepared (IngestRun keeps two in flight).
    private const int RecentFolds = 4;

    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    // The engine's whole mutable state. One batch at a time (the gate): the cache moves on only after its batch
    // commits, and everything below is reset together by Forget when the database may hold what the cache does not.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ProspectCache? _cache;
    private long _batches;

    /// <summary>Batches this engine has begun: a caller that sees it unchanged over a while knows ingest was idle.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>
    /// Drops the prospect cache if no batch began since <see cref="Batches"/> read <paramref name="batchesSeen"/>; the
    /// next batch loads it again from the log. True when a cache was dropped.
    /// </summary>
    public async Task<bool> ReleaseCacheAsync(long batchesSeen, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_cache is null || Batches != batchesSeen) return false;
            Forget();
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    // This process's last folds: the cache and the version each made, and the prospects of its batch. A batch judged
    // at an earlier version is still judged right if every change since is one of these and none holds its prospects.
    private readonly Queue<(ProspectCache Cache, long Version, IngestBatch.BatchKeys Keys)> _recentFolds = new();

    // Rows in superseded_states as this process counts them: null until counted (at the first reclaim check after a
    // cache load), then advanced by this process's batches. Batches of other processes are counted at its next load.
    private long? _supersededStates;

    /// <summary>Log bytes a compaction must save at least (tests lower it to compact small logs).</summary>
    internal long MinimumCompactionBytes { get; set; } = 16L << 20;

    /// <summary>Superseded rows below which no reclaim runs, however few current ones there are (tests lower it).</summary>
    internal long MinimumReclaimRows { get; set; } = 10_000;

    /// <summary>
    /// Sorts and fingerprints a batch (<see cref="IngestBatch.Of"/>), judges it against the cache as it is now, and
    /// reads ahead the states that judgment leaves pending. Runs beside the write of the batches before it, so this
    /// work and those random reads leave the write path (where they took a fifth of a steady snapshot's time).
    /// A batch written in between may change what the cache says of some of its prospects: then
    /// <see cref="ApplyBatchAsync"/> judges again and reads whatever state it needs that was not read ahead.
    /// </summary>
    public async Task<IngestBatch> PrepareBatchAsync(IReadOnlyList<Observation> observations, CancellationToken cancellationToken)
    {
        var batch = IngestBatch.Of(observations);
        if (_cache is not { } cache) return batch; // not loaded yet: the first batch loads it
        IngestBatch.Judgment judgment;
        lock (cache.Gate)
        {
            judgment = batch.JudgeFromCache(cache);
            batch.Prepared = (judgment, cache, cache.Version);
        }
        var rows = judgment.Pending.Where(p => p.Known is not null).Select(p => p.Known!.Value.StatePk).ToList();
        if (rows.Count == 0) return batch;
        try
        {
            batch.StatesReadAhead = await store.ReadStatesAsync(rows, cancellationToken);
        }
        catch (DbException e)
        {
            // Only a head start: the write reads whatever was not read ahead, and reports the error if it persists.
            Log.ReadAheadFailed(_logger, e);
        }
        return batch;
    }

    /// <summary>
    /// Writes a batch: under the ingest lock, catches the cache up, judges the batch (again, if the cache changed in a
    /// way that concerns it), detects on the prospects the cache cannot settle, and writes the changed states, the new
    /// events with their deliveries and the batch's log row. Once committed, folds the row into the cache. Events
    /// already stored (same deterministic id) are not counted again.
    /// </summary>
    public async Task<IngestCounts> ApplyBatchAsync(IngestBatch batch, DateTimeOffset detectedAt, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        Interlocked.Increment(ref _batches);
        var started = Stopwatch.GetTimestamp();
        using var span = Instruments.Source.StartActivity("ingest batch");
        try
        {
            var (counts, newEvents, packed, seq, superseded) = await store.WriteStatesAsync(async write =>
            {
                // A batch must read the state another batch is writing only after that batch commits, or it would
                // detect against an old state.
                await write.LockIngestAsync(cancellationToken);
                var cache = await SyncCacheAsync(write, cancellationToken);
                var judgment = Judge(batch, cache);
                var entries = new List<LogEntry>(judgment.Pending.Count);
                var (slowStale, events, superseded) = await DetectAsync(write, batch, judgment.Pending, entries, detectedAt, cancellationToken);
                var (packed, packedRepeats) = (LogEntry.Pack(entries), LogTime.Pack(judgment.Repeats));
                var seq = await write.AppendLogAsync(BatchRow, Fingerprint.Version, packed, packedRepeats, cancellationToken);
                var total = events.Values.Sum();
                return (new IngestCounts(batch.Count, judgment.Stale + slowStale, total), events, (Entries: packed, Repeats: packedRepeats), seq, superseded);
            }, cancellationToken);
            Instruments.IngestBatch(counts.Observations, counts.Stale, newEvents, Stopwatch.GetElapsedTime(started));
            span?.SetTag("prospect_events.observations", counts.Observations);
            span?.SetTag("prospect_events.stale", counts.Stale);
            span?.SetTag("prospect_events.events", counts.Events);

            // Committed: only now may the cache move on (a rolled-back batch must leave it as the database is).
            if (_cache is { } cache && cache.LastSeq < seq)
            {
                lock (cache.Gate) cache.Fold(seq, isBase: false, packed.Entries, packed.Repeats);
                _recentFolds.Enqueue((cache, cache.Version, batch.Keys));
                if (_recentFolds.Count > RecentFolds) _recentFolds.Dequeue();
            }
            _supersededStates += superseded;
            await CompactLogIfDueAsync(cancellationToken);
            await ReclaimStatesIfDueAsync(cancellationToken);
            return counts;
        }
        catch (Exception e)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            Forget(); // whatever happened, the next batch starts from what the database holds
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The batch's judgment against the cache as it is now: the one made while preparing it when nothing since changed
    /// its prospects (the rule in a steady feed, where each prospect comes once), else made again.
    /// </summary>
    private IngestBatch.Judgment Judge(IngestBatch batch, ProspectCache cache)
    {
        var prepared = batch.Prepared;
        batch.Prepared = null; // used once; and it may name a cache since dropped
        if (prepared is (var judgment, var judgedCache, var version) && ReferenceEquals(judgedCache, cache))
        {
            var next = version + 1;
            foreach (var (foldedCache, made, keys) in _recentFolds)
            {
                if (!ReferenceEquals(foldedCache, cache) || made <= version) continue;
                if (made != next || batch.SharesProspectsWith(keys)) return batch.JudgeFromCache(cache);
                next++;
            }
            if (next == cache.Version + 1) return judgment;
        }
        return batch.JudgeFromCache(cache);
    }

    /// <summary>
    /// Detects on the prospects the cache could not judge: loads their states (the newest time is the cache's, which
    /// the log may have advanced past the row's), applies their remaining observations, appends the states that
    /// changed (listing the rows they replace as superseded) and the events found, and adds their log entries.
    /// Returns the stale count, the new events by name and how many rows were superseded.
    /// </summary>
    private static async Task<(int Stale, Dictionary<string, int> Events, int Superseded)> DetectAsync(StateTransaction write,
        IngestBatch batch, List<IngestBatch.Pending> pending, List<LogEntry> entries, DateTimeOffset detectedAt, CancellationToken cancellationToken)
    {
        var stale = 0;
        var detected = new List<(byte[] ProspectId, CareerEvent Event)>();
        var superseded = new List<long>();
        var nextStatePk = 0L; // read from the table at the first state written
        var written = new List<StateRow>();
        var readAhead = batch.StatesReadAhead ?? ReadOnlyDictionary<long, ProspectState>.Empty;
        foreach (var chunk in pending.Chunk(StateChunk))
        {
            var missing = chunk.Where(p => p.Known is { } known && !readAhead.ContainsKey(known.StatePk)).Select(p => p.Known!.Value.StatePk).ToList();
            var previous = missing.Count == 0 ? null : await write.LoadStatesAsync(missing, cancellationToken);
            foreach (var prospect in chunk)
            {
                var id = prospect.Observations[0].ProspectId;
                ProspectState? before = null;
                long statePk = 0;
                if (prospect.Known is { } cached)
                {
                    statePk = cached.StatePk;
                    before = readAhead.GetValueOrDefault(statePk) ?? previous?.GetValueOrDefault(statePk)
                        ?? throw new InvalidOperationException($"Prospect {id} is in the observation log but its state row {statePk} is missing.");
                    before = before with { ObservedAt = DateTimeOffset.FromUnixTimeMilliseconds(cached.ObservedAtMs) };
                }
                var (state, events, staleCount) = ChangeDetector.ApplyAll(before, prospect.Observations);
                stale += staleCount;
                if (state is null) continue;
                if (before is null || state != before with { ObservedAt = state.ObservedAt })
                {
                    // Appended under the next number (rows go in key order at the table's end), never updated in place.
                    if (before is not null) superseded.Add(statePk);
                    if (nextStatePk == 0) nextStatePk = await write.NextStatePkAsync(cancellationToken);
                    statePk = nextStatePk++;
                    written.Add(new StateRow(statePk, prospect.Key, state));
                }
                // With one observation, the state's texts are its own or the old state's, and so are their hashes:
                // no need to normalize them again (a first sight's state is its observation, fingerprint included).
                var fingerprint = prospect.Observations.Count != 1 ? Fingerprint.Of(state)
                    : before is null ? prospect.Fingerprints[0]
                    : Fingerprint.Of(state, before, prospect.Known!.Value.Fingerprint, prospect.Observations[0], prospect.Fingerprints[0]);
                entries.Add(new LogEntry(prospect.Key, new CachedProspect(state.ObservedAt.ToUnixTimeMilliseconds(), statePk, fingerprint)));
                foreach (var found in events) detected.Add((prospect.Key.ToBytes(), found));
            }
        }
        await write.AppendStatesAsync(written, cancellationToken);
        await write.SupersedeStatesAsync(superseded, cancellationToken);
        var inserted = await write.InsertAndMatchEventsAsync(detected, detectedAt, cancellationToken);
        return (stale, CountByName(detected, inserted), superseded.Count);
    }

    /// <summary>The events of <paramref name="inserted"/> (a subset of <paramref name="detected"/>: those not stored before), by name.</summary>
    private static Dictionary<string, int> CountByName(List<(byte[] ProspectId, CareerEvent Event)> detected, IReadOnlyList<string> inserted)
    {
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        if (inserted.Count == 0) return byName;
        // All new is the rule; a re-ingest is the exception, where only the ids the store returned count.
        var isNew = inserted.Count == detected.Count ? null : inserted.ToHashSet(StringComparer.Ordinal);
        foreach (var (_, found) in detected)
        {
            if (isNew is null || isNew.Contains(found.EventId)) byName[found.EventName] = byName.GetValueOrDefault(found.EventName) + 1;
        }
        return byName;
    }

    /// <summary>The cache, caught up with every log row committed by any process. Call under the ingest lock.</summary>
    private async Task<ProspectCache> SyncCacheAsync(StateTransaction write, CancellationToken cancellationToken)
    {
        if (_cache is { } cache)
        {
            var caughtUp = true;
            await write.ReadLogAsync(cache.LastSeq, (seq, kind, version, entries, repeats) =>
            {
                // A base (another process compacted) or a row of another fingerprint version: reload instead.
                if (kind != BatchRow || version != Fingerprint.Version)
                {
                    caughtUp = false;
                    return false;
                }
                lock (cache.Gate) cache.Fold(seq, isBase: false, entries, repeats);
                return true;
            }, cancellationToken);
            if (caughtUp) return cache;
        }
        Forget(); // before loading the new one: two caches of a million prospects would not fit the memory target
        return _cache = await LoadCacheAsync(write, cancellationToken);
    }

    private static async Task<ProspectCache> LoadCacheAsync(StateTransaction write, CancellationToken cancellationToken)
    {
        // A row of another fingerprint version (say, an older process still ingesting during a rolling upgrade) may
        // hold a change the other rows' fingerprints don't know: then trust no fingerprint of the log, only its times.
        var mixed = await write.LogHoldsOtherVersionsAsync(Fingerprint.Version, cancellationToken);
        var based = !mixed && await write.FirstLogKindAsync(cancellationToken) == BaseRow;
        // Without a usable base, start from the states (every prospect has one) and fold the log over them. With one,
        // make room for every full entry of the log: the rows since the base list the prospects first seen since, and
        // growing a million-entry cache while loading it took a fifth of the load. Prospects listed twice make it
        // larger than needed, twice at most (compaction keeps the log under two entries a prospect).
        var cache = based
            ? new ProspectCache(checked((int)(await write.LogEntryBytesAsync(cancellationToken) / LogEntry.Size)))
            : await LoadStatesIntoCacheAsync(write, cancellationToken);
        await write.ReadLogAsync(-1, (seq, kind, _, entries, repeats) =>
        {
            cache.Fold(seq, kind == BaseRow, entries, repeats, timesOnly: mixed);
            return true;
        }, cancellationToken);
        return cache;
    }

    // Sized up front: growing a dictionary of a million entries step by step leaves twice that in garbage.
    private static async Task<ProspectCache> LoadStatesIntoCacheAsync(StateTransaction write, CancellationToken cancellationToken)
    {
        var cache = new ProspectCache(await write.CountCurrentStatesAsync(cancellationToken));
        await write.ReadCurrentStatesAsync((statePk, key, state) =>
            cache.Set(key, new CachedProspect(state.ObservedAt.ToUnixTimeMilliseconds(), statePk, Fingerprint.Of(state))), cancellationToken);
        return cache;
    }

    /// <summary>
    /// Replaces the whole log by a base of the cache once that halves it at least (<see cref="ProspectCache.CompactionDue"/>).
    /// Called after a batch committed, so a failure here must not fail that batch: the cache is dropped (the next batch
    /// reloads it) and the next batch tries again.
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
            if (e is not OperationCanceledException) Log.CompactionFailed(_logger, e);
            Forget();
            return;
        }
        _cache?.Rebased(lastSeq); // only a committed base moves the cache on
    }

    // Part of an ingest run, so a state write: SQLite leaves its checkpoint to the background below the bulk backstop,
    // where a request's 1,000-page threshold made the commit copy the WAL inline.
    private Task<long> CompactLogAsync(CancellationToken cancellationToken) =>
        store.WriteStatesAsync(async write =>
        {
            await write.LockIngestAsync(cancellationToken);
            var cache = await SyncCacheAsync(write, cancellationToken);
            await write.DeleteLogAsync(cancellationToken);
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
                seq = await write.AppendLogAsync(BaseRow, Fingerprint.Version, at == buffer.Length ? buffer : buffer[..at], [], cancellationToken);
                at = 0;
            }
            return seq;
        }, cancellationToken);

    /// <summary>
    /// Deletes the superseded rows once they reach half the current states (and <see cref="MinimumReclaimRows"/>), so
    /// they take about a third of the table at most. Called after a batch committed: nothing here may fail the batch
    /// (not even a cancellation: the batch is stored), and the next batch tries again.
    /// </summary>
    private async Task ReclaimStatesIfDueAsync(CancellationToken cancellationToken)
    {
        if (_cache is not { } cache) return;
        try
        {
            _supersededStates ??= await store.CountSupersededStatesAsync(cancellationToken);
            if (_supersededStates < Math.Max(cache.Count / 2, MinimumReclaimRows)) return;
            await store.ReclaimStatesAsync(cancellationToken);
            _supersededStates = 0;
        }
        catch (Exception e)
        {
            if (e is not OperationCanceledException) Log.ReclaimFailed(_logger, e);
            _supersededStates = null;
        }
    }

    /// <summary>
    /// Forgets the cache, the folds that name it and the superseded count: a million-prospect cache must not outlive
    /// its use, and the next batch loads what the database holds.
    /// </summary>
    private void Forget()
    {
        _cache = null;
        _recentFolds.Clear();
        _supersededStates = null;
    }
}
