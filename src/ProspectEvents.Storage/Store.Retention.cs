using System.Data.Common;

namespace ProspectEvents.Storage;

/// <summary>
/// Retention (Events:RetentionDays; Migrations/*/0015_retention.sql): events past the cutoff are deleted with everything
/// derived from them, a bounded batch a transaction, in passes recorded in retention_passes so that the processes
/// sharing a database run one pass between them.
/// </summary>
public abstract partial class Store
{
    /// <summary>How many retention passes are kept; older rows are deleted as new passes start.</summary>
    public const int KeptRetentionPasses = 100;

    /// <summary>One retention pass: when it started, its cutoff, when it finished (null: running, or it died) and what it deleted.</summary>
    public sealed record RetentionPass(long PassPk, DateTimeOffset StartedAt, DateTimeOffset Cutoff, DateTimeOffset? FinishedAt, long Events, long Deliveries, long Expired);

    /// <summary>Where a pass has read up to in events_by_detection: the last event it looked at.</summary>
    public readonly record struct RetentionCursor(long DetectedAt, string EventId);

    /// <summary>
    /// What one batch did: the events it looked at, those it deleted, their deliveries, of which <see cref="Expired"/>
    /// were still pending, and where the next batch starts (null: the pass has seen every event before the cutoff).
    /// </summary>
    public readonly record struct RetentionBatch(int Scanned, int Events, int Deliveries, int Expired, RetentionCursor? Next);

    /// <summary>
    /// Starts a pass with <paramref name="cutoff"/> and returns its key, if one is due: there was none, or the latest
    /// finished with a cutoff at least <paramref name="interval"/> before this one (the cutoff decides, not the start
    /// time, so a retention shortened since is due at once), or the latest has not moved for <paramref name="stalled"/>
    /// (its process died or failed). Under a lock, so of several processes asking at once one starts the pass and the
    /// others get null.
    /// </summary>
    public Task<long?> StartRetentionPassAsync(DateTimeOffset now, DateTimeOffset cutoff, TimeSpan interval, TimeSpan stalled, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await LockAsync(connection, transaction, RetentionLock, cancellationToken);
            await using (var latest = Command(connection, transaction,
                "SELECT cutoff, finished_at, progressed_at FROM retention_passes ORDER BY pass_pk DESC LIMIT 1"))
            {
                await using var reader = await latest.ExecuteReaderAsync(cancellationToken);
                if (await reader.ReadAsync(cancellationToken))
                {
                    var due = reader.IsDBNull(1)
                        ? reader.GetInt64(2) <= ToUnixMs(now - stalled)
                        : reader.GetInt64(0) <= ToUnixMs(cutoff - interval);
                    if (!due) return (long?)null;
                }
            }
            long pass;
            await using (var insert = Command(connection, transaction,
                "INSERT INTO retention_passes (started_at, cutoff, progressed_at) VALUES (@now, @cutoff, @now) RETURNING pass_pk"))
            {
                AddParameter(insert, "@now", ToUnixMs(now));
                AddParameter(insert, "@cutoff", ToUnixMs(cutoff));
                pass = Convert.ToInt64(await insert.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
            }
            await using var trim = Command(connection, transaction, "DELETE FROM retention_passes WHERE pass_pk <= @pass - @kept");
            AddParameter(trim, "@pass", pass);
            AddParameter(trim, "@kept", (long)KeptRetentionPasses);
            await trim.ExecuteNonQueryAsync(cancellationToken);
            return pass;
        }, cancellationToken);

    /// <summary>
    /// One batch of pass <paramref name="pass"/>: looks at up to <paramref name="limit"/> events detected before the
    /// cutoff, after <paramref name="after"/> in detection order, and deletes those whose <c>event_time</c> is before it
    /// too, with their deliveries, the deliveries' attempts and the provider's copies of the events (SQLite's fetch
    /// table), unless a delivery of the event is still in flight: pending and due at or after the cutoff (claimed, or
    /// retrying on its schedule). A pending delivery due before the cutoff is one no webhook took for the whole
    /// retention (the webhook disabled or not registered, or no dispatcher running): it expires with its event and is
    /// counted as expired. One short transaction, under the retention lock.
    /// </summary>
    public Task<RetentionBatch> DeleteExpiredEventsAsync(
        long pass, DateTimeOffset cutoff, RetentionCursor? after, int limit, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await LockAsync(connection, transaction, RetentionLock, cancellationToken);
            var cut = ToUnixMs(cutoff);
            var doomed = new List<(string EventId, byte[] ProspectId, long EventTime)>();
            var scanned = 0;
            RetentionCursor? next = null;
            await using (var scan = Command(connection, transaction, """
                SELECT event_id, prospect_id, event_time, detected_at FROM events
                WHERE detected_at < @cutoff AND (detected_at, event_id) > (@at, @id)
                ORDER BY detected_at, event_id LIMIT @limit
                """))
            {
                AddParameter(scan, "@cutoff", cut);
                AddParameter(scan, "@at", after?.DetectedAt ?? long.MinValue);
                AddParameter(scan, "@id", after?.EventId ?? "");
                AddParameter(scan, "@limit", limit);
                await using var reader = await scan.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    scanned++;
                    next = new RetentionCursor(reader.GetInt64(3), reader.GetString(0));
                    if (reader.GetInt64(2) < cut) doomed.Add((reader.GetString(0), (byte[])reader.GetValue(1), reader.GetInt64(2)));
                }
            }
            if (scanned < limit) next = null;
            if (doomed.Count == 0) return await ProgressedAsync(new RetentionBatch(scanned, 0, 0, 0, next));

            var inFlight = new HashSet<string>(StringComparer.Ordinal);
            await using (var flying = Command(connection, transaction,
                $"SELECT DISTINCT event_id FROM deliveries WHERE event_id IN ({SelectTextsSql("@events")}) AND status = 'pending' AND next_attempt_at >= @cutoff"))
            {
                AddParameter(flying, "@events", Texts(doomed.Select(d => d.EventId).ToList()));
                AddParameter(flying, "@cutoff", cut);
                await using var reader = await flying.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken)) inFlight.Add(reader.GetString(0));
            }
            doomed.RemoveAll(d => inFlight.Contains(d.EventId));
            if (doomed.Count == 0) return await ProgressedAsync(new RetentionBatch(scanned, 0, 0, 0, next));

            var ids = Texts(doomed.Select(d => d.EventId).ToList());
            await using (var attempts = Command(connection, transaction,
                $"DELETE FROM delivery_attempts WHERE delivery_pk IN (SELECT delivery_pk FROM deliveries WHERE event_id IN ({SelectTextsSql("@events")}))"))
            {
                AddParameter(attempts, "@events", ids);
                await attempts.ExecuteNonQueryAsync(cancellationToken);
            }
            int deliveries = 0, expired = 0;
            await using (var outbox = Command(connection, transaction, $"DELETE FROM deliveries WHERE event_id IN ({SelectTextsSql("@events")}) RETURNING status"))
            {
                AddParameter(outbox, "@events", ids);
                await using var reader = await outbox.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    deliveries++;
                    if (reader.GetString(0) == "pending") expired++;
                }
            }
            await DeleteEventCopiesAsync(connection, transaction, doomed, cancellationToken);
            await using (var events = Command(connection, transaction, $"DELETE FROM events WHERE event_id IN ({SelectTextsSql("@events")})"))
            {
                AddParameter(events, "@events", ids);
                await events.ExecuteNonQueryAsync(cancellationToken);
            }
            return await ProgressedAsync(new RetentionBatch(scanned, doomed.Count, deliveries, expired, next));

            async Task<RetentionBatch> ProgressedAsync(RetentionBatch batch)
            {
                await using var progress = Command(connection, transaction, """
                    UPDATE retention_passes SET progressed_at = @now,
                        events = events + @events, deliveries = deliveries + @deliveries, expired = expired + @expired
                    WHERE pass_pk = @pass
                    """);
                AddParameter(progress, "@now", ToUnixMs(now));
                AddParameter(progress, "@events", (long)batch.Events);
                AddParameter(progress, "@deliveries", (long)batch.Deliveries);
                AddParameter(progress, "@expired", (long)batch.Expired);
                AddParameter(progress, "@pass", pass);
                await progress.ExecuteNonQueryAsync(cancellationToken);
                return batch;
            }
        }, cancellationToken);

    /// <summary>Deletes what the provider keeps of these events besides the events table itself (SQLite: its fetch table).</summary>
    protected virtual Task DeleteEventCopiesAsync(DbConnection connection, DbTransaction transaction,
        IReadOnlyList<(string EventId, byte[] ProspectId, long EventTime)> events, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Records that pass <paramref name="pass"/> has seen every event before its cutoff.</summary>
    public Task FinishRetentionPassAsync(long pass, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction, "UPDATE retention_passes SET finished_at = @now, progressed_at = @now WHERE pass_pk = @pass");
            AddParameter(command, "@now", ToUnixMs(now));
            AddParameter(command, "@pass", pass);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>The latest retention pass, or null when none has run.</summary>
    public Task<RetentionPass?> LatestRetentionPassAsync(CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Command(connection, null,
                "SELECT pass_pk, started_at, cutoff, finished_at, events, deliveries, expired FROM retention_passes ORDER BY pass_pk DESC LIMIT 1");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken)) return null;
            return new RetentionPass(reader.GetInt64(0), Time(reader, 1)!.Value, Time(reader, 2)!.Value, Time(reader, 3),
                reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6));
        }, cancellationToken);
}
