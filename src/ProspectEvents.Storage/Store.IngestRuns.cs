namespace ProspectEvents.Storage;

/// <summary>The record of recent ingests (Migrations/*/0012_operator_page.sql), for the operator page.</summary>
public abstract partial class Store
{
    /// <summary>How many ingest runs are kept; older ones are deleted as new ones are recorded.</summary>
    public const int KeptIngestRuns = 1_000;

    /// <summary>One ingest as it ended; <see cref="Error"/> is set when its input broke off.</summary>
    public sealed record IngestRunRecord(
        string Source, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, long Observations, long Rejected, long Stale, long Events, double Seconds, string? Error);

    /// <summary>Records an ingest that ended, and forgets those beyond the latest <see cref="KeptIngestRuns"/>.</summary>
    public Task RecordIngestRunAsync(IngestRunRecord run, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await using (var insert = Command(connection, transaction, """
                INSERT INTO ingest_runs (source, started_at, finished_at, observations, rejected, stale, events, seconds, error)
                VALUES (@source, @started, @finished, @observations, @rejected, @stale, @events, @seconds, @error)
                """))
            {
                AddParameter(insert, "@source", run.Source);
                AddParameter(insert, "@started", ToUnixMs(run.StartedAt));
                AddParameter(insert, "@finished", ToUnixMs(run.FinishedAt));
                AddParameter(insert, "@observations", run.Observations);
                AddParameter(insert, "@rejected", run.Rejected);
                AddParameter(insert, "@stale", run.Stale);
                AddParameter(insert, "@events", run.Events);
                AddParameter(insert, "@seconds", run.Seconds);
                AddParameter(insert, "@error", run.Error);
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
            // Keyed by the primary key, so the trim is an index range however many runs there were.
            await using var trim = Command(connection, transaction,
                "DELETE FROM ingest_runs WHERE ingest_pk <= (SELECT MAX(ingest_pk) FROM ingest_runs) - @kept");
            AddParameter(trim, "@kept", (long)KeptIngestRuns);
            await trim.ExecuteNonQueryAsync(cancellationToken);
            return 0;
        }, cancellationToken);

    /// <summary>The latest <paramref name="limit"/> ingest runs, newest first.</summary>
    public Task<List<IngestRunRecord>> RecentIngestRunsAsync(int limit, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Command(connection, null, """
                SELECT source, started_at, finished_at, observations, rejected, stale, events, seconds, error
                FROM ingest_runs ORDER BY ingest_pk DESC LIMIT @limit
                """);
            AddParameter(command, "@limit", limit);
            var runs = new List<IngestRunRecord>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                runs.Add(new IngestRunRecord(reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5),
                    reader.GetInt64(6), reader.GetDouble(7), reader.IsDBNull(8) ? null : reader.GetString(8)));
            return runs;
        }, cancellationToken);
}
