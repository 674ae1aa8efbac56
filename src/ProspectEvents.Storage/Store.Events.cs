using System.Data.Common;
using System.Globalization;
using System.Text;
using ProspectEvents.Detection;

namespace ProspectEvents.Storage;

/// <summary>
/// Events: the fetch the API serves, and the insert the transactions that detect events (an ingest batch, an anniversary
/// sweep) run. Event ids are deterministic, so inserting one stored before adds nothing.
/// </summary>
public abstract partial class Store
{
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

    /// <summary>A text column's UTF-8 bytes. SQLite stores them so, and reads them without a string between.</summary>
    protected virtual byte[] ReadUtf8(DbDataReader reader, int ordinal) => System.Text.Encoding.UTF8.GetBytes(reader.GetString(ordinal));

    /// <summary>
    /// Events of the given prospects and types with <c>from ≤ event_time ≤ to</c>, newest first (then by event id), each
    /// with the caller's text of its prospect id. SQLite overrides it to read its own table (SqliteStore.Fetch.cs).
    /// </summary>
    public virtual Task<List<StoredEvent>> FetchEventsAsync(
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
                    asked >= 0 ? prospectIds[asked] : ProspectId.ToHex(id), ReadUtf8(reader, 4)));
            }
            return events;
        }, cancellationToken);

    /// <summary>
    /// Inserts the events whose ids are not stored yet, in one statement of column arrays where the provider has them,
    /// else <see cref="RowsPerStatement"/> a statement (the remainder one by one: two statements to prepare); returns
    /// the ids inserted, which are the ones to match to enrollments.
    /// </summary>
    internal async Task<List<string>> InsertEventsAsync(
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
