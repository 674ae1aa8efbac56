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
            var stale = 0;
            var inserted = 0;
            foreach (var prospect in observations.GroupBy(o => o.ProspectId).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var id = ProspectId.ToBytes(prospect.Key);
                var previous = await LoadStateAsync(connection, transaction, id, cancellationToken);
                var (state, events, staleCount) = ChangeDetector.ApplyAll(previous, prospect);
                stale += staleCount;
                if (state is not null && !ReferenceEquals(state, previous)) await SaveStateAsync(connection, transaction, id, state, cancellationToken);
                foreach (var found in events) inserted += await InsertEventAsync(connection, transaction, id, found, detectedAt, cancellationToken);
            }
            return new IngestCounts(observations.Count, stale, inserted);
        }, cancellationToken);

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

    private async Task<ProspectState?> LoadStateAsync(DbConnection connection, DbTransaction transaction, byte[] id, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction,
            $"SELECT {StateColumns} FROM prospect_states WHERE prospect_id = @id");
        AddParameter(command, "@id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadState(reader, 0) : null;
    }

    private const string StateColumns = "observed_at, full_name, job_title, company_id, company_name, company_domain, job_start_date, linkedin_url";

    /// <summary>A <see cref="ProspectState"/> from <see cref="StateColumns"/>, starting at column <paramref name="first"/>.</summary>
    private static ProspectState ReadState(DbDataReader reader, int first)
    {
        string? Text(int i) => reader.IsDBNull(first + i) ? null : reader.GetString(first + i);
        return new ProspectState(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(first)), Text(1), Text(2), Text(3), Text(4), Text(5),
            JobStartDate.TryParse(Text(6), out var start) ? start : null, Text(7));
    }

    private async Task SaveStateAsync(DbConnection connection, DbTransaction transaction, byte[] id, ProspectState state, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction,
            """
            INSERT INTO prospect_states (prospect_id, observed_at, full_name, job_title, company_id, company_name, company_domain, job_start_date, linkedin_url)
            VALUES (@id, @at, @name, @title, @cid, @cname, @cdomain, @start, @url)
            ON CONFLICT (prospect_id) DO UPDATE SET observed_at = excluded.observed_at, full_name = excluded.full_name, job_title = excluded.job_title,
                company_id = excluded.company_id, company_name = excluded.company_name, company_domain = excluded.company_domain,
                job_start_date = excluded.job_start_date, linkedin_url = excluded.linkedin_url
            """);
        AddParameter(command, "@id", id);
        AddParameter(command, "@at", ToUnixMs(state.ObservedAt));
        AddParameter(command, "@name", (object?)state.FullName ?? DBNull.Value);
        AddParameter(command, "@title", (object?)state.JobTitle ?? DBNull.Value);
        AddParameter(command, "@cid", (object?)state.CompanyId ?? DBNull.Value);
        AddParameter(command, "@cname", (object?)state.CompanyName ?? DBNull.Value);
        AddParameter(command, "@cdomain", (object?)state.CompanyDomain ?? DBNull.Value);
        AddParameter(command, "@start", (object?)state.JobStartDate?.ToString() ?? DBNull.Value);
        AddParameter(command, "@url", (object?)state.LinkedinUrl ?? DBNull.Value);
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
