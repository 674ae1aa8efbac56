using System.Collections.ObjectModel;
using System.Data.Common;
using System.Globalization;
using System.Text;
using ProspectEvents.Detection;

namespace ProspectEvents.Storage;

public abstract partial class Store
{
    /// <summary>
    /// Runs a batch of observations through the detector and writes the changed prospect states, the new events and
    /// the batch's observation-log row in one transaction, so a crash leaves either all of the batch or none of it.
    /// Most observations are judged from the in-memory <see cref="ProspectCache"/> alone: stale ones (not newer than
    /// what is known) and repeats (every known field normalizes as the stored state's) read and rewrite no state.
    /// The rest load their state, go through <see cref="ChangeDetector"/>, and write it back when it changed.
    /// Events already stored (same deterministic id) are not counted again.
    /// </summary>
    public async Task<IngestCounts> ApplyObservationsAsync(IngestBatch batch, DateTimeOffset detectedAt, CancellationToken cancellationToken)
    {
        await _ingestGate.WaitAsync(cancellationToken);
        try
        {
            var (counts, packed, seq, superseded) = await BulkWriteAsync(async (connection, transaction) =>
            {
                // Ingest serializes per prospect: a batch must read the state another batch is writing only after that
                // batch commits, or it would detect against an old state. SQLite's single writer does this already;
                // PostgreSQL takes a lock (a batch spans nearly every prospect bucket, so one lock is as good as many).
                await LockAsync(connection, transaction, IngestLock, cancellationToken);
                var cache = await SyncCacheAsync(connection, transaction, cancellationToken);
                var judgment = Judge(batch, cache);
                var entries = new List<LogEntry>(judgment.Pending.Count);
                var (slowStale, inserted, superseded) = await DetectAsync(connection, transaction, batch, judgment.Pending, entries, detectedAt, cancellationToken);
                await MatchEventsAsync(connection, transaction, inserted, cancellationToken);
                var (packed, packedRepeats) = (LogEntry.Pack(entries), LogTime.Pack(judgment.Repeats));
                var seq = await AppendLogAsync(connection, transaction, BatchRow, packed, packedRepeats, cancellationToken);
                return (new IngestCounts(batch.Count, judgment.Stale + slowStale, inserted.Count), (Entries: packed, Repeats: packedRepeats), seq, superseded);
            }, cancellationToken);

            if (counts.Events > 0) OutboxWritten?.Invoke();
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
        catch
        {
            DropCache(); // whatever happened, the next batch starts from what the database holds
            _supersededStates = null;
            throw;
        }
        finally
        {
            _ingestGate.Release();
        }
    }

    // This process's last folds: the cache and the version each made, and the prospects of its batch. A batch judged
    // at an earlier version is still judged right if every change since is one of these and none holds its prospects.
    // Used under _ingestGate only.
    private readonly Queue<(ProspectCache Cache, long Version, IngestBatch.BatchKeys Keys)> _recentFolds = new();

    // Enough for the batches written while one is prepared (IngestRun keeps two in flight).
    private const int RecentFolds = 4;

    /// <summary>Forgets the cache, and the folds that name it: a million-prospect cache must not outlive its use.</summary>
    private void DropCache()
    {
        _cache = null;
        _recentFolds.Clear();
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
    /// Sorts and fingerprints a batch (<see cref="IngestBatch.Of"/>), judges it against the cache as it is now, and
    /// reads ahead the states that judgment leaves pending. Runs beside the write of the batches before it, so this
    /// work and those random reads leave the write path (where they took a fifth of a steady snapshot's time).
    /// A batch written in between may change what the cache says of some of its prospects: then
    /// <see cref="ApplyObservationsAsync"/> judges again and reads whatever state it needs that was not read ahead.
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
            batch.StatesReadAhead = await ReadAsync(connection => LoadStatesAsync(connection, null, rows, cancellationToken), cancellationToken);
        }
        catch (DbException e)
        {
            // Only a head start: the write reads whatever was not read ahead, and reports the error if it persists.
            StoreLog.ReadAheadFailed(Logger, e);
        }
        return batch;
    }

    /// <summary>
    /// Detects on the prospects the cache could not judge: loads their states (the newest time is the cache's, which
    /// the log may have advanced past the row's), applies their remaining observations, appends the states that
    /// changed (listing the rows they replace as superseded) and the events found, and adds their log entries.
    /// Returns the stale count, the ids of the new events and how many rows were superseded.
    /// </summary>
    private async Task<(int Stale, List<string> Events, int Superseded)> DetectAsync(DbConnection connection, DbTransaction transaction,
        IngestBatch batch, List<IngestBatch.Pending> pending, List<LogEntry> entries, DateTimeOffset detectedAt, CancellationToken cancellationToken)
    {
        var stale = 0;
        var detected = new List<(byte[] ProspectId, CareerEvent Event)>();
        var superseded = new List<long>();
        var nextStatePk = 0L; // read from the table at the first state written
        var written = new List<StateRow>();
        // States are read a chunk of prospects per statement (per-row statements cost more than the rows), unless
        // they were read ahead.
        var readAhead = batch.StatesReadAhead ?? ReadOnlyDictionary<long, ProspectState>.Empty;
        foreach (var chunk in pending.Chunk(StateChunk))
        {
            var missing = chunk.Where(p => p.Known is { } known && !readAhead.ContainsKey(known.StatePk)).Select(p => p.Known!.Value.StatePk).ToList();
            var previous = missing.Count == 0 ? null : await LoadStatesAsync(connection, transaction, missing, cancellationToken);
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
                    if (nextStatePk == 0) nextStatePk = await NextStatePkAsync(connection, transaction, cancellationToken);
                    statePk = nextStatePk++;
                    written.Add(new StateRow(statePk, prospect.Key, state));
                }
                // With one observation, the state's texts are its own or the old state's, and so are their hashes:
                // no need to normalize them again (a first sight's state is its observation, fingerprint included).
                var fingerprint = prospect.Observations.Count != 1 ? Fingerprint.Of(state)
                    : before is null ? prospect.Fingerprints[0]
                    : Fingerprint.Of(state, before, prospect.Known!.Value.Fingerprint, prospect.Observations[0], prospect.Fingerprints[0]);
                entries.Add(new LogEntry(prospect.Key, new CachedProspect(ToUnixMs(state.ObservedAt), statePk, fingerprint)));
                foreach (var found in events) detected.Add((prospect.Key.ToBytes(), found));
            }
        }
        if (written.Count > 0) await AppendStatesAsync(connection, transaction, written, cancellationToken);
        await SupersedeStatesAsync(connection, transaction, superseded, cancellationToken);
        return (stale, await InsertEventsAsync(connection, transaction, detected, detectedAt, cancellationToken), superseded.Count);
    }

    private const int MaxRowsPerStatement = 25;

    /// <summary>
    /// Event and delivery-attempt rows written per statement (states have a statement of their own per provider,
    /// <see cref="AppendStatesAsync"/>): many saves PostgreSQL round trips. SQLite overrides it: it binds
    /// each named parameter by scanning the statement's names, so a statement's binding cost grows with the square of
    /// its size.
    /// </summary>
    protected virtual int RowsPerStatement => MaxRowsPerStatement;

    private static readonly string?[] FetchEventsSqlByCounts = new string?[64 * 4];
    private static readonly string[] ProspectParameters = [.. Enumerable.Range(0, 64).Select(i => $"@p{i}")];
    private static readonly string[] NameParameters = [.. Enumerable.Range(0, 4).Select(i => $"@n{i}")];

    /// <summary>
    /// The fetch statement for <paramref name="prospects"/> ids and <paramref name="names"/> types, built once per pair of
    /// counts: the text is the key of the prepared statement a provider keeps (SQLite per connection, Npgsql's auto-prepare).
    /// </summary>
    private static string FetchEventsSql(int prospects, int names)
    {
        if (prospects >= 64 || names >= 4) return BuildFetchEventsSql(prospects, names);
        return FetchEventsSqlByCounts[(prospects * 4) + names] ??= BuildFetchEventsSql(prospects, names);
    }

    private static string BuildFetchEventsSql(int prospects, int names)
    {
        var sql = new StringBuilder("SELECT event_id, event_name, event_time, prospect_id, data FROM events WHERE prospect_id IN (");
        sql.AppendJoin(", ", Enumerable.Range(0, prospects).Select(i => ParameterName(ProspectParameters, "@p", i))).Append(") AND event_name IN (");
        sql.AppendJoin(", ", Enumerable.Range(0, names).Select(i => ParameterName(NameParameters, "@n", i)))
            .Append(") AND event_time >= @from AND event_time <= @to ORDER BY event_time DESC, event_id");
        return sql.ToString();
    }

    // The names of the usual counts are made once: a fetch binds up to 40 ids and 3 types a request.
    private static string ParameterName(string[] made, string prefix, int i) => i < made.Length ? made[i] : prefix + i.ToString(CultureInfo.InvariantCulture);

    private static int IndexOf(byte[][] ids, byte[] id)
    {
        for (var i = 0; i < ids.Length; i++)
            if (ids[i].AsSpan().SequenceEqual(id)) return i;
        return -1;
    }

    /// <summary>
    /// The fetch statement taking the ids as one array parameter <c>@p</c> and the types as <c>@n</c>, where the provider
    /// has arrays (one statement for every count, two parameters to bind); null: one parameter per value.
    /// </summary>
    protected virtual string? FetchEventsFromArraysSql => null;

    /// <summary>Events of the given prospects and types with <c>from ≤ event_time ≤ to</c>, newest first.</summary>
    public Task<List<StoredEvent>> FetchEventsAsync(
        IReadOnlyList<string> prospectIds, IReadOnlyCollection<string> eventNames, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        ReadEventsAsync(async connection =>
        {
            var ids = new byte[prospectIds.Count][];
            for (var i = 0; i < ids.Length; i++) ids[i] = ProspectId.ToBytes(prospectIds[i]);
            var arrays = FetchEventsFromArraysSql;
            await using var command = Command(connection, null, arrays ?? FetchEventsSql(ids.Length, eventNames.Count));
            if (arrays is not null)
            {
                AddParameter(command, "@p", ids);
                AddParameter(command, "@n", eventNames.ToArray());
            }
            else
            {
                for (var i = 0; i < ids.Length; i++) AddParameter(command, ParameterName(ProspectParameters, "@p", i), ids[i]);
                var n = 0;
                foreach (var name in eventNames) AddParameter(command, ParameterName(NameParameters, "@n", n++), name);
            }
            AddParameter(command, "@from", ToUnixMs(from));
            AddParameter(command, "@to", ToUnixMs(to));

            var events = new List<StoredEvent>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                // The id is one of those asked for: answer with the caller's own hex text (lowercase, as validated).
                // GetFieldValue, not GetBytes: SQLite's GetBytes opens a blob stream, looking up the column's table each row.
                var id = reader.GetFieldValue<byte[]>(3);
                var asked = IndexOf(ids, id);
                events.Add(new StoredEvent(reader.GetString(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                    asked >= 0 ? prospectIds[asked] : ProspectId.ToHex(id), reader.GetString(4)));
            }
            return events;
        }, cancellationToken);

    /// <summary>
    /// Inserts the events whose ids are not stored yet, in one statement of column arrays where the provider has them,
    /// else <see cref="RowsPerStatement"/> a statement (the remainder one by one: two statements to prepare); returns
    /// the ids inserted, which are the ones to match to enrollments.
    /// </summary>
    private async Task<List<string>> InsertEventsAsync(
        DbConnection connection, DbTransaction transaction, List<(byte[] ProspectId, CareerEvent Event)> events, DateTimeOffset detectedAt, CancellationToken cancellationToken)
    {
        var inserted = new List<string>();
        if (events.Count > 0 && InsertEventsFromArraysSql is { } fromArrays)
        {
            await using var command = Command(connection, transaction, fromArrays);
            AddParameter(command, "@detected", ToUnixMs(detectedAt));
            AddParameter(command, "@id", events.Select(e => e.Event.EventId).ToArray());
            AddParameter(command, "@name", events.Select(e => e.Event.EventName).ToArray());
            AddParameter(command, "@prospect", events.Select(e => e.ProspectId).ToArray());
            AddParameter(command, "@time", events.Select(e => ToUnixMs(e.Event.EventTime)).ToArray());
            AddParameter(command, "@observed", events.Select(e => ToUnixMs(e.Event.ObservedAt)).ToArray());
            AddParameter(command, "@data", events.Select(e => EventJson.Serialize(e.Event.Data)).ToArray());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) inserted.Add(reader.GetString(0));
            return inserted;
        }
        var at = 0;
        for (; at + RowsPerStatement <= events.Count; at += RowsPerStatement)
            await InsertEventsAsync(connection, transaction, events, at, RowsPerStatement, detectedAt, inserted, cancellationToken);
        for (; at < events.Count; at++) await InsertEventsAsync(connection, transaction, events, at, 1, detectedAt, inserted, cancellationToken);
        return inserted;
    }

    /// <summary>
    /// SQL inserting events from one array parameter per column (<c>@id, @name, @prospect, @time, @observed, @data</c>)
    /// and <c>@detected</c>, skipping stored ids and returning the new ones; null where the provider has no arrays.
    /// </summary>
    protected virtual string? InsertEventsFromArraysSql => null;

    private static readonly string?[] InsertEventsSqlByRows = new string?[MaxRowsPerStatement + 1];

    private async Task InsertEventsAsync(DbConnection connection, DbTransaction transaction, List<(byte[] ProspectId, CareerEvent Event)> events,
        int from, int count, DateTimeOffset detectedAt, List<string> inserted, CancellationToken cancellationToken)
    {
        var sql = InsertEventsSqlByRows[count] ??= $"""
            INSERT INTO events (event_id, event_name, prospect_id, event_time, observed_at, detected_at, data)
            VALUES {string.Join(", ", Enumerable.Range(0, count).Select(i => $"(@id{i}, @name{i}, @prospect{i}, @time{i}, @observed{i}, @detected, @data{i})"))}
            ON CONFLICT (event_id) DO NOTHING
            RETURNING event_id
            """;
        await using var command = Command(connection, transaction, sql);
        AddParameter(command, "@detected", ToUnixMs(detectedAt));
        for (var i = 0; i < count; i++)
        {
            var (prospectId, found) = events[from + i];
            AddParameter(command, $"@id{i}", found.EventId);
            AddParameter(command, $"@name{i}", found.EventName);
            AddParameter(command, $"@prospect{i}", prospectId);
            AddParameter(command, $"@time{i}", ToUnixMs(found.EventTime));
            AddParameter(command, $"@observed{i}", ToUnixMs(found.ObservedAt));
            AddParameter(command, $"@data{i}", EventJson.Serialize(found.Data));
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) inserted.Add(reader.GetString(0));
    }
}
