using System.Data.Common;
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
            var (counts, packed, seq) = await WriteAsync(async (connection, transaction) =>
            {
                // Ingest serializes per prospect: a batch must read the state another batch is writing only after that
                // batch commits, or it would detect against an old state. SQLite's single writer does this already;
                // PostgreSQL takes a lock (a batch spans nearly every prospect bucket, so one lock is as good as many).
                await LockAsync(connection, transaction, IngestLock, cancellationToken);
                var cache = await SyncCacheAsync(connection, transaction, cancellationToken);
                var (stale, entries, slow) = batch.JudgeFromCache(cache);
                var (slowStale, inserted) = await DetectAsync(connection, transaction, slow, entries, detectedAt, cancellationToken);
                await MatchEventsAsync(connection, transaction, inserted, cancellationToken);
                var packed = LogEntry.Pack(entries);
                var seq = await AppendLogAsync(connection, transaction, BatchRow, packed, cancellationToken);
                return (new IngestCounts(batch.Count, stale + slowStale, inserted.Count), packed, seq);
            }, cancellationToken);

            // Committed: only now may the cache move on (a rolled-back batch must leave it as the database is).
            if (_cache is { } cache && cache.LastSeq < seq) cache.Fold(seq, isBase: false, packed);
            await CompactLogIfDueAsync(cancellationToken);
            return counts;
        }
        catch
        {
            _cache = null; // whatever happened, the next batch starts from what the database holds
            throw;
        }
        finally
        {
            _ingestGate.Release();
        }
    }

    /// <summary>
    /// Detects on the prospects the cache could not judge: loads their states (the newest time is the cache's, which
    /// the log may have advanced past the row's), applies their remaining observations, writes the states that changed
    /// and the events found, and adds their log entries. Returns the stale count and the ids of the new events.
    /// </summary>
    private async Task<(int Stale, List<string> Events)> DetectAsync(DbConnection connection, DbTransaction transaction,
        List<IngestBatch.Pending> pending, List<LogEntry> entries, DateTimeOffset detectedAt, CancellationToken cancellationToken)
    {
        var stale = 0;
        var detected = new List<(byte[] ProspectId, CareerEvent Event)>();
        var nextStatePk = 0L; // read from the table at the first new prospect
        // States are read and written a chunk of prospects per statement: per-row statements cost more than the rows.
        foreach (var chunk in pending.Chunk(StateChunk))
        {
            var known = chunk.Where(p => p.Known is not null).Select(p => (long)p.Known!.Value.StatePk).ToList();
            var previous = known.Count == 0 ? [] : await LoadStatesAsync(connection, transaction, known, cancellationToken);
            var added = new List<StateRow>();
            var changed = new List<StateRow>();
            foreach (var prospect in chunk)
            {
                var id = prospect.Observations[0].ProspectId;
                ProspectState? before = null;
                long statePk;
                if (prospect.Known is { } cached)
                {
                    statePk = cached.StatePk;
                    before = previous.GetValueOrDefault(statePk)
                        ?? throw new InvalidOperationException($"Prospect {id} is in the observation log but its state row {statePk} is missing.");
                    before = before with { ObservedAt = DateTimeOffset.FromUnixTimeMilliseconds(cached.ObservedAtMs) };
                }
                else
                {
                    // New states are numbered in key order after the last one: SQLite appends them, no page split.
                    if (nextStatePk == 0) nextStatePk = await NextStatePkAsync(connection, transaction, cancellationToken);
                    statePk = nextStatePk++;
                }
                var (state, events, staleCount) = ChangeDetector.ApplyAll(before, prospect.Observations);
                stale += staleCount;
                if (state is null) continue;
                if (before is null) added.Add(new StateRow(statePk, id, state));
                else if (state != before with { ObservedAt = state.ObservedAt }) changed.Add(new StateRow(statePk, id, state));
                // A first sight's state is its one observation, fingerprint included: no need to normalize it again.
                var fingerprint = before is null && prospect.Observations.Count == 1 ? prospect.Fingerprints[0] : Fingerprint.Of(state);
                entries.Add(new LogEntry(prospect.Key, new CachedProspect(ToUnixMs(state.ObservedAt), checked((int)statePk), fingerprint)));
                foreach (var found in events) detected.Add((ProspectId.ToBytes(id), found));
            }
            await SaveStatesAsync(connection, transaction, added, InsertStatesSql, cancellationToken);
            await SaveStatesAsync(connection, transaction, changed, UpdateStatesSql, cancellationToken);
        }
        return (stale, await InsertEventsAsync(connection, transaction, detected, detectedAt, cancellationToken));
    }

    private async Task<long> NextStatePkAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, "SELECT COALESCE(MAX(state_pk), 0) + 1 FROM prospect_states");
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A state to write: its row number, the prospect (hex) and the state.</summary>
    private readonly record struct StateRow(long StatePk, string ProspectId, ProspectState State);

    private const int StateChunk = 250;
    private const int MaxRowsPerStatement = 25;

    /// <summary>
    /// State and event rows written per statement: many saves PostgreSQL round trips. SQLite overrides it: it binds
    /// each named parameter by scanning the statement's names, so a statement's binding cost grows with the square of
    /// its size.
    /// </summary>
    protected virtual int RowsPerStatement => MaxRowsPerStatement;

    private static readonly string LoadStatesSql =
        $"SELECT state_pk, {StateColumns} FROM prospect_states WHERE state_pk IN ({string.Join(", ", Enumerable.Range(0, StateChunk).Select(i => $"@p{i}"))})";

    /// <summary>Events of the given prospects and types with <c>from ≤ event_time ≤ to</c>, newest first.</summary>
    public Task<List<StoredEvent>> FetchEventsAsync(
        IReadOnlyList<string> prospectIds, IReadOnlyCollection<string> eventNames, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            var sql = new StringBuilder("SELECT event_id, event_name, event_time, prospect_id, data FROM events WHERE prospect_id IN (");
            sql.AppendJoin(", ", prospectIds.Select((_, i) => $"@p{i}")).Append(") AND event_name IN (");
            sql.AppendJoin(", ", eventNames.Select((_, i) => $"@n{i}")).Append(") AND event_time >= @from AND event_time <= @to ORDER BY event_time DESC, event_id");
            await using var command = Command(connection, null, sql.ToString());
            for (var i = 0; i < prospectIds.Count; i++) AddParameter(command, $"@p{i}", ProspectId.ToBytes(prospectIds[i]));
            var n = 0;
            foreach (var name in eventNames) AddParameter(command, $"@n{n++}", name);
            AddParameter(command, "@from", ToUnixMs(from));
            AddParameter(command, "@to", ToUnixMs(to));

            var events = new List<StoredEvent>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                events.Add(new StoredEvent(reader.GetString(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                    ProspectId.ToHex((byte[])reader.GetValue(3)), reader.GetString(4)));
            }
            return events;
        }, cancellationToken);

    /// <summary>The stored states of the given rows, by row number.</summary>
    private async Task<Dictionary<long, ProspectState>> LoadStatesAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<long> statePks, CancellationToken cancellationToken)
    {
        // Always StateChunk placeholders (a short chunk repeats its last row), so there is one statement to prepare.
        await using var command = Command(connection, transaction, LoadStatesSql);
        for (var i = 0; i < StateChunk; i++) AddParameter(command, $"@p{i}", statePks[Math.Min(i, statePks.Count - 1)]);
        var states = new Dictionary<long, ProspectState>(statePks.Count);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) states[reader.GetInt64(0)] = ReadState(reader, 1);
        return states;
    }

    private const string StateColumns = "observed_at, full_name, job_title, company_id, company_name, company_domain, job_start_date, linkedin_url";

    /// <summary>A <see cref="ProspectState"/> from <see cref="StateColumns"/>, starting at column <paramref name="first"/>.</summary>
    private static ProspectState ReadState(DbDataReader reader, int first)
    {
        string? Text(int i) => reader.IsDBNull(first + i) ? null : reader.GetString(first + i);
        return new ProspectState(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(first)), Text(1), Text(2), Text(3), Text(4), Text(5),
            JobStartDate.TryParse(Text(6), out var start) ? start : null, Text(7));
    }

    /// <summary>Writes states <see cref="RowsPerStatement"/> rows per statement, the remainder one by one: two statements to prepare.</summary>
    private async Task SaveStatesAsync(DbConnection connection, DbTransaction transaction, List<StateRow> rows, Func<int, string> sql, CancellationToken cancellationToken)
    {
        var at = 0;
        for (; at + RowsPerStatement <= rows.Count; at += RowsPerStatement)
            await SaveStatesAsync(connection, transaction, rows, at, RowsPerStatement, sql, cancellationToken);
        for (; at < rows.Count; at++) await SaveStatesAsync(connection, transaction, rows, at, 1, sql, cancellationToken);
    }

    private async Task SaveStatesAsync(
        DbConnection connection, DbTransaction transaction, List<StateRow> rows, int from, int count, Func<int, string> sql, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql(count));
        for (var i = 0; i < count; i++)
        {
            var (statePk, id, state) = rows[from + i];
            AddParameter(command, $"@k{i}", statePk);
            AddParameter(command, $"@i{i}", ProspectId.ToBytes(id));
            AddParameter(command, $"@a{i}", ToUnixMs(state.ObservedAt));
            AddParameter(command, $"@n{i}", state.FullName);
            AddParameter(command, $"@t{i}", state.JobTitle);
            AddParameter(command, $"@c{i}", state.CompanyId);
            AddParameter(command, $"@cn{i}", state.CompanyName);
            AddParameter(command, $"@cd{i}", state.CompanyDomain);
            AddParameter(command, $"@s{i}", state.JobStartDate?.ToString());
            AddParameter(command, $"@u{i}", state.LinkedinUrl);
        }
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string StateValues(int rows) =>
        string.Join(", ", Enumerable.Range(0, rows).Select(i => $"(@k{i}, @i{i}, @a{i}, @n{i}, @t{i}, @c{i}, @cn{i}, @cd{i}, @s{i}, @u{i})"));

    private static readonly string?[] InsertStatesSqlByRows = new string?[MaxRowsPerStatement + 1];
    private static readonly string?[] UpdateStatesSqlByRows = new string?[MaxRowsPerStatement + 1];

    private static string InsertStatesSql(int rows) => InsertStatesSqlByRows[rows] ??=
        $"INSERT INTO prospect_states (state_pk, prospect_id, {StateColumns}) VALUES {StateValues(rows)}";

    // A row keeps its number and prospect; the rest is replaced. UPDATE … FROM a VALUES list works in both dialects.
    private static string UpdateStatesSql(int rows) => UpdateStatesSqlByRows[rows] ??= $"""
        WITH v (state_pk, prospect_id, {StateColumns}) AS (VALUES {StateValues(rows)})
        UPDATE prospect_states SET observed_at = v.observed_at, full_name = v.full_name, job_title = v.job_title,
            company_id = v.company_id, company_name = v.company_name, company_domain = v.company_domain,
            job_start_date = v.job_start_date, linkedin_url = v.linkedin_url
        FROM v WHERE prospect_states.state_pk = v.state_pk
        """;

    /// <summary>
    /// Inserts the events whose ids are not stored yet, <see cref="RowsPerStatement"/> a statement (the remainder one
    /// by one: two statements to prepare); returns the ids inserted, which are the ones to match to enrollments.
    /// </summary>
    private async Task<List<string>> InsertEventsAsync(
        DbConnection connection, DbTransaction transaction, List<(byte[] ProspectId, CareerEvent Event)> events, DateTimeOffset detectedAt, CancellationToken cancellationToken)
    {
        var inserted = new List<string>();
        var at = 0;
        for (; at + RowsPerStatement <= events.Count; at += RowsPerStatement)
            await InsertEventsAsync(connection, transaction, events, at, RowsPerStatement, detectedAt, inserted, cancellationToken);
        for (; at < events.Count; at++) await InsertEventsAsync(connection, transaction, events, at, 1, detectedAt, inserted, cancellationToken);
        return inserted;
    }

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
