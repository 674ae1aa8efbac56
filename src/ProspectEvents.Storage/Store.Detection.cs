using System.Data.Common;
using System.Text;
using ProspectEvents.Detection;

namespace ProspectEvents.Storage;

public abstract partial class Store
{
    /// <summary>
    /// Runs a batch of observations through the detector and writes the new prospect states and events in one
    /// transaction, so a crash leaves either all of the batch or none of it. Prospects are visited in id order.
    /// Events already stored (same deterministic id) are not counted again.
    /// </summary>
    public Task<IngestCounts> ApplyObservationsAsync(IReadOnlyList<Observation> observations, DateTimeOffset detectedAt, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            // Ingest serializes per prospect: a batch must read the state another batch is writing only after that
            // batch commits, or it would detect against an old state. SQLite's single writer does this already;
            // PostgreSQL takes a lock (a batch spans nearly every prospect bucket, so one lock is as good as many).
            await LockAsync(connection, transaction, IngestLock, cancellationToken);
            var stale = 0;
            var inserted = new List<string>();
            var prospects = observations.GroupBy(o => o.ProspectId).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
            // States are read and written a chunk of prospects per statement: per-row statements cost more than the rows.
            foreach (var chunk in prospects.Chunk(StateChunk))
            {
                var previous = await LoadStatesAsync(connection, transaction, chunk.Select(g => g.Key).ToList(), cancellationToken);
                var changed = new List<(string Id, ProspectState State)>();
                foreach (var prospect in chunk)
                {
                    var before = previous.GetValueOrDefault(prospect.Key);
                    var (state, events, staleCount) = ChangeDetector.ApplyAll(before, prospect);
                    stale += staleCount;
                    if (state is not null && !ReferenceEquals(state, before)) changed.Add((prospect.Key, state));
                    foreach (var found in events)
                        if (await InsertEventAsync(connection, transaction, ProspectId.ToBytes(prospect.Key), found, detectedAt, cancellationToken) == 1) inserted.Add(found.EventId);
                }
                await SaveStatesAsync(connection, transaction, changed, cancellationToken);
            }
            await MatchEventsAsync(connection, transaction, inserted, cancellationToken);
            return new IngestCounts(observations.Count, stale, inserted.Count);
        }, cancellationToken);

    private const int StateChunk = 250;
    private const int StateRowsPerInsert = 25;

    private static readonly string LoadStatesSql =
        $"SELECT prospect_id, {StateColumns} FROM prospect_states WHERE prospect_id IN ({string.Join(", ", Enumerable.Range(0, StateChunk).Select(i => $"@p{i}"))})";

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

    /// <summary>The stored states of <paramref name="prospectIds"/> (hex), by id; prospects never seen are absent.</summary>
    private async Task<Dictionary<string, ProspectState>> LoadStatesAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<string> prospectIds, CancellationToken cancellationToken)
    {
        // Always StateChunk placeholders (a short chunk repeats its last id), so there is one statement to prepare.
        await using var command = Command(connection, transaction, LoadStatesSql);
        for (var i = 0; i < StateChunk; i++) AddParameter(command, $"@p{i}", ProspectId.ToBytes(prospectIds[Math.Min(i, prospectIds.Count - 1)]));
        var states = new Dictionary<string, ProspectState>(prospectIds.Count, StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) states[ProspectId.ToHex((byte[])reader.GetValue(0))] = ReadState(reader, 1);
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

    /// <summary>Upserts states <see cref="StateRowsPerInsert"/> rows per statement, the remainder one by one: two statements to prepare.</summary>
    private async Task SaveStatesAsync(DbConnection connection, DbTransaction transaction, List<(string Id, ProspectState State)> states, CancellationToken cancellationToken)
    {
        var at = 0;
        for (; at + StateRowsPerInsert <= states.Count; at += StateRowsPerInsert)
            await UpsertStatesAsync(connection, transaction, states, at, StateRowsPerInsert, cancellationToken);
        for (; at < states.Count; at++) await UpsertStatesAsync(connection, transaction, states, at, 1, cancellationToken);
    }

    private static readonly string?[] UpsertStatesSqlByRows = new string?[StateRowsPerInsert + 1];

    private async Task UpsertStatesAsync(
        DbConnection connection, DbTransaction transaction, List<(string Id, ProspectState State)> states, int from, int rows, CancellationToken cancellationToken)
    {
        var sql = UpsertStatesSqlByRows[rows] ??= $"""
            INSERT INTO prospect_states (prospect_id, {StateColumns}) VALUES {string.Join(", ", Enumerable.Range(0, rows).Select(i => $"(@i{i}, @a{i}, @n{i}, @t{i}, @c{i}, @cn{i}, @cd{i}, @s{i}, @u{i})"))}
            ON CONFLICT (prospect_id) DO UPDATE SET observed_at = excluded.observed_at, full_name = excluded.full_name, job_title = excluded.job_title,
                company_id = excluded.company_id, company_name = excluded.company_name, company_domain = excluded.company_domain,
                job_start_date = excluded.job_start_date, linkedin_url = excluded.linkedin_url
            """;
        await using var command = Command(connection, transaction, sql);
        for (var i = 0; i < rows; i++)
        {
            var (id, state) = states[from + i];
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

    /// <summary>Inserts an event unless its id is already stored; 1 when it was new.</summary>
    private async Task<int> InsertEventAsync(DbConnection connection, DbTransaction transaction, byte[] prospectId, CareerEvent found, DateTimeOffset detectedAt, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction,
            """
            INSERT INTO events (event_id, event_name, prospect_id, event_time, observed_at, detected_at, data)
            VALUES (@id, @name, @prospect, @time, @observed, @detected, @data)
            ON CONFLICT (event_id) DO NOTHING
            """);
        AddParameter(command, "@id", found.EventId);
        AddParameter(command, "@name", found.EventName);
        AddParameter(command, "@prospect", prospectId);
        AddParameter(command, "@time", ToUnixMs(found.EventTime));
        AddParameter(command, "@observed", ToUnixMs(found.ObservedAt));
        AddParameter(command, "@detected", ToUnixMs(detectedAt));
        AddParameter(command, "@data", EventJson.Serialize(found.Data));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
