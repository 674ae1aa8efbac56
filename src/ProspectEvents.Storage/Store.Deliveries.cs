using System.Data.Common;
using System.Text;

namespace ProspectEvents.Storage;

/// <summary>
/// The delivery outbox (Migrations/*/0006_webhooks.sql): rows are added with their events (see MatchEventsAsync);
/// dispatchers claim the due ones under a lease, send them, and record each attempt.
/// </summary>
public abstract partial class Store
{
    /// <summary>The registered, enabled webhooks with at least one delivery due at <paramref name="now"/>. A read: no write lock.</summary>
    public Task<List<string>> WebhooksWithDueDeliveriesAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Command(connection, null, """
                SELECT w.webhook_id FROM webhooks w
                WHERE w.disabled_at IS NULL AND w.removed_at IS NULL AND EXISTS (
                    SELECT 1 FROM deliveries d WHERE d.webhook_id = w.webhook_id AND d.status = 'pending' AND d.next_attempt_at <= @now)
                """);
            AddParameter(command, "@now", ToUnixMs(now));
            var webhooks = new List<string>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) webhooks.Add(reader.GetString(0));
            return webhooks;
        }, cancellationToken);

    /// <summary>
    /// Claims up to <paramref name="limit"/> of the webhook's due deliveries, oldest due first, if it is registered and enabled:
    /// each becomes due again only at <paramref name="leaseUntil"/>, so if this process dies before recording the
    /// attempt, another (or this one, restarted) sends it then. Rows another process is claiming are skipped.
    /// Ties are taken in index order: ordering by delivery_pk as well, which deliveries_due does not hold, made
    /// PostgreSQL join and sort every due row on each claim (an ingest batch's deliveries share one due time). SQLite's
    /// index ends in the rowid, delivery_pk, anyway.
    /// </summary>
    public Task<List<ClaimedDelivery>> ClaimDeliveriesAsync(string webhookId, int limit, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var claimed = new List<ClaimedDelivery>();
            var lease = ToUnixMs(leaseUntil);
            await using (var command = Command(connection, transaction, $"""
                SELECT d.delivery_pk, d.delivery_id, d.enrollment_key, d.attempts, d.schedule_base,
                       e.event_id, e.event_name, e.event_time, e.prospect_id, e.data, d.partner_id, d.enrollment_id,
                       {string.Join(", ", WebhookColumns.Split(", ").Select(c => "w." + c))}
                FROM deliveries d
                JOIN webhooks w ON w.webhook_id = d.webhook_id
                JOIN events e ON e.event_id = d.event_id
                WHERE d.webhook_id = @webhook AND d.status = 'pending' AND d.next_attempt_at <= @now AND w.disabled_at IS NULL AND w.removed_at IS NULL
                ORDER BY d.next_attempt_at
                LIMIT @limit{SkipLockedSql}
                """))
            {
                AddParameter(command, "@webhook", webhookId);
                AddParameter(command, "@now", ToUnixMs(now));
                AddParameter(command, "@limit", limit);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var stored = new StoredEvent(reader.GetString(5), reader.GetString(6), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(7)),
                        ProspectId.ToHex((byte[])reader.GetValue(8)), ReadUtf8(reader, 9));
                    claimed.Add(new ClaimedDelivery(reader.GetInt64(0), reader.GetString(1), reader.GetString(10), reader.GetString(2),
                        reader.IsDBNull(11) ? null : reader.GetString(11), reader.GetInt32(3), reader.GetInt32(4), lease, stored, ReadWebhook(reader, 12)));
                }
            }
            await ExecuteInChunksAsync(connection, transaction, LeaseSql, LeaseChunk, claimed, (command, i, delivery) =>
            {
                AddParameter(command, $"@k{i}", delivery.DeliveryPk);
                if (i == 0) AddParameter(command, "@lease", lease);
            }, cancellationToken);
            return claimed;
        }, cancellationToken);

    /// <summary>Row locks for a claim: PostgreSQL skips rows another dispatcher is claiming; SQLite has one writer and needs none.</summary>
    protected virtual string SkipLockedSql => "";

    private const int LeaseChunk = 50;

    private static readonly string LeaseSql =
        $"UPDATE deliveries SET next_attempt_at = @lease WHERE delivery_pk IN ({Placeholders(LeaseChunk, i => $"@k{i}")})";

    /// <summary>
    /// Records attempts, all in one transaction: the attempt row, the delivery's new state, and the webhooks' failure
    /// streaks. A success always counts. A failure moves the delivery on only if it still holds the lease it was
    /// claimed with: otherwise the lease ran out and another claim owns the delivery now. A webhook whose attempts in
    /// this batch all failed, and that has been failing for <paramref name="disableAfter"/>, is disabled, as is one
    /// whose receiver answered 410. Returns the webhooks this disabled, with why.
    /// </summary>
    public Task<List<(string PartnerId, string WebhookId, string Reason)>> RecordAttemptsAsync(IReadOnlyList<AttemptOutcome> outcomes, TimeSpan disableAfter, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            // RowsPerStatement attempts a statement: one UPDATE and one INSERT per attempt were two round trips each on
            // PostgreSQL and most of the recorder's time. A delivery that is
            // in the batch twice (claimed again after its lease ran out) goes in a later round, so its attempts are
            // numbered one after the other.
            var rounds = outcomes.GroupBy(o => o.Delivery.DeliveryPk)
                .SelectMany(delivery => delivery.Select((outcome, round) => (outcome, round)))
                .GroupBy(x => x.round, x => x.outcome)
                .OrderBy(round => round.Key);
            foreach (var round in rounds)
            {
                // In key order, as every writer of these rows goes: two recorders (processes on one PostgreSQL) then
                // lock rows in the same order and cannot deadlock.
                var rows = round.OrderBy(o => o.Delivery.DeliveryPk).ToList();
                var attempts = new Dictionary<long, int>(rows.Count);
                foreach (var chunk in rows.Chunk(RowsPerStatement))
                {
                    await using var command = Command(connection, transaction, _recordDeliveriesSql ??= RecordDeliveriesSql(RowsPerStatement));
                    for (var i = 0; i < RowsPerStatement; i++)
                    {
                        var outcome = chunk[Math.Min(i, chunk.Length - 1)]; // a short chunk repeats its last row: applied once
                        AddParameter(command, $"@pk{i}", outcome.Delivery.DeliveryPk);
                        AddParameter(command, $"@at{i}", ToUnixMs(outcome.AttemptedAt));
                        AddParameter(command, $"@lease{i}", outcome.Delivery.LeaseUntil);
                        AddParameter(command, $"@delivered{i}", outcome.Delivered ? 1 : 0);
                        AddParameter(command, $"@exhausted{i}", !outcome.Delivered && outcome.Next is null ? 1 : 0);
                        AddParameter(command, $"@next{i}", outcome.Next is { } next ? ToUnixMs(next) : 0L);
                    }
                    await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                    while (await reader.ReadAsync(cancellationToken)) attempts[reader.GetInt64(0)] = reader.GetInt32(1);
                }
                // A delivery row that is gone has no attempt to number; it must not fail the batch (retried forever).
                var recorded = rows.Where(o => attempts.ContainsKey(o.Delivery.DeliveryPk)).ToList();
                await ExecuteInChunksAsync(connection, transaction, _insertAttemptsSql ??= InsertAttemptsSql(RowsPerStatement), RowsPerStatement, recorded, (command, i, outcome) =>
                {
                    AddParameter(command, $"@pk{i}", outcome.Delivery.DeliveryPk);
                    AddParameter(command, $"@attempt{i}", attempts[outcome.Delivery.DeliveryPk]);
                    AddParameter(command, $"@at{i}", ToUnixMs(outcome.AttemptedAt));
                    AddParameter(command, $"@ms{i}", (long)outcome.Duration.TotalMilliseconds);
                    AddParameter(command, $"@code{i}", outcome.StatusCode);
                    AddParameter(command, $"@error{i}", outcome.Error);
                    AddParameter(command, $"@response{i}", outcome.Response);
                }, cancellationToken);
            }

            var disabled = new List<(string, string, string)>();
            foreach (var byWebhook in outcomes.GroupBy(o => o.Delivery.Webhook.WebhookId).OrderBy(w => w.Key, StringComparer.Ordinal))
            {
                // Only attempts made with the webhook as it is now count for it: a late answer from the URL it had
                // before a re-registration or a PUT must not disable (or taint) the fixed one.
                var version = byWebhook.Max(o => o.Delivery.Webhook.UpdatedAt);
                var partner = byWebhook.Where(o => o.Delivery.Webhook.UpdatedAt == version).ToList();
                var gone = partner.FirstOrDefault(o => o.DisableWebhook is not null);
                var succeeded = partner.Any(o => o.Delivered);
                await using var command = Command(connection, transaction, succeeded && gone is null ? WebhookSucceededSql : WebhookFailedSql);
                AddParameter(command, "@webhook", byWebhook.Key);
                AddParameter(command, "@version", ToUnixMs(version));
                if (!succeeded || gone is not null)
                {
                    var firstFailure = partner.Where(o => !o.Delivered).Min(o => o.AttemptedAt);
                    var last = partner.Max(o => o.AttemptedAt);
                    AddParameter(command, "@first", ToUnixMs(firstFailure));
                    AddParameter(command, "@at", ToUnixMs(last));
                    AddParameter(command, "@gone", gone is null ? 0 : 1);
                    AddParameter(command, "@streak", (long)disableAfter.TotalMilliseconds);
                    AddParameter(command, "@reason", gone?.DisableWebhook ?? $"every attempt failed for {disableAfter} (Webhooks:DisableAfter)");
                }
                if (await command.ExecuteScalarAsync(cancellationToken) is string reason) disabled.Add((partner[0].Delivery.PartnerId, byWebhook.Key, reason));
            }
            return disabled;
        }, cancellationToken);

    private string? _recordDeliveriesSql, _insertAttemptsSql;

    /// <summary>
    /// Ends a delivery whose attempt cannot be recorded (a database error on its rows that a retry does not fix): it
    /// is set <c>delivered</c> or, for a failed attempt, <c>failed</c> (the dead letter, to replay), without the
    /// attempt's log row, so it stops being sent again each time its lease runs out. As in
    /// <see cref="RecordAttemptsAsync"/>, a success always counts and a failure only for the holder of the lease.
    /// Returns whether the delivery was ended.
    /// </summary>
    public Task<bool> ParkDeliveryAsync(AttemptOutcome outcome, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction, """
                UPDATE deliveries SET status = @status, next_attempt_at = NULL, finished_at = @at,
                    attempts = attempts + 1, last_attempt_at = @at
                WHERE delivery_pk = @pk AND (@delivered = 1 OR (status = 'pending' AND next_attempt_at = @lease))
                """);
            AddParameter(command, "@pk", outcome.Delivery.DeliveryPk);
            AddParameter(command, "@status", outcome.Delivered ? "delivered" : "failed");
            AddParameter(command, "@delivered", outcome.Delivered ? 1 : 0);
            AddParameter(command, "@lease", outcome.Delivery.LeaseUntil);
            AddParameter(command, "@at", ToUnixMs(outcome.AttemptedAt));
            return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, cancellationToken);

    // SET expressions see the row as it was. A success wins whatever the state; a failure is applied only by the holder
    // of the lease, and an exhausted schedule ends the delivery as failed. The VALUES columns (named column1.. on both
    // providers) are pk, attempted at, lease, delivered, exhausted, next. A row named twice is updated once.
    private static string RecordDeliveriesSql(int rows) => $"""
        UPDATE deliveries SET
            attempts = attempts + 1,
            last_attempt_at = v.column2,
            status = CASE WHEN v.column4 = 1 THEN 'delivered'
                          WHEN status <> 'pending' OR next_attempt_at <> v.column3 THEN status
                          WHEN v.column5 = 1 THEN 'failed' ELSE 'pending' END,
            next_attempt_at = CASE WHEN v.column4 = 1 THEN NULL
                          WHEN status <> 'pending' OR next_attempt_at <> v.column3 THEN next_attempt_at
                          WHEN v.column5 = 1 THEN NULL ELSE v.column6 END,
            finished_at = CASE WHEN v.column4 = 1 THEN (CASE WHEN status = 'delivered' THEN finished_at ELSE v.column2 END)
                          WHEN status <> 'pending' OR next_attempt_at <> v.column3 THEN finished_at
                          WHEN v.column5 = 1 THEN v.column2 ELSE NULL END
        FROM (VALUES {Placeholders(rows, i => $"(@pk{i}, @at{i}, @lease{i}, @delivered{i}, @exhausted{i}, @next{i})")}) AS v
        WHERE delivery_pk = v.column1
        RETURNING delivery_pk, attempts
        """;

    // A short chunk repeats its last row (ExecuteInChunksAsync): the repeat is the same attempt, and is ignored.
    private static string InsertAttemptsSql(int rows) => $"""
        INSERT INTO delivery_attempts (delivery_pk, attempt, attempted_at, duration_ms, status_code, error, response)
        VALUES {Placeholders(rows, i => $"(@pk{i}, @attempt{i}, @at{i}, @ms{i}, @code{i}, @error{i}, @response{i})")}
        ON CONFLICT DO NOTHING
        """;

    private const string WebhookSucceededSql =
        "UPDATE webhooks SET failing_since = NULL WHERE webhook_id = @webhook AND updated_at = @version AND failing_since IS NOT NULL";

    // The run of failures starts anew (at @first) after a success (failing_since null) or after a quiet spell longer
    // than the streak; SET expressions see the row as it was, so the run's start is spelled out where it is used.
    private const string StreakStart = "(CASE WHEN failing_since IS NULL OR last_failure_at < @first - @streak THEN @first ELSE failing_since END)";

    private const string WebhookFailedSql = $"""
        UPDATE webhooks SET
            failing_since = {StreakStart},
            last_failure_at = @at,
            disabled_reason = CASE WHEN disabled_at IS NULL AND (@gone = 1 OR {StreakStart} <= @at - @streak) THEN @reason ELSE disabled_reason END,
            disabled_at = CASE WHEN disabled_at IS NULL AND (@gone = 1 OR {StreakStart} <= @at - @streak) THEN @at ELSE disabled_at END
        WHERE webhook_id = @webhook AND updated_at = @version
        RETURNING CASE WHEN disabled_at = @at THEN disabled_reason END
        """;

    private const string DeliveryViewColumns = """
        d.delivery_id, d.event_id, e.event_name, e.prospect_id, d.enrollment_key, d.status, d.attempts, d.created_at,
        d.next_attempt_at, d.finished_at, d.delivery_pk, a.attempt, a.attempted_at, a.duration_ms, a.status_code, a.error, a.response
        FROM deliveries d
        JOIN events e ON e.event_id = d.event_id
        LEFT JOIN delivery_attempts a ON a.delivery_pk = d.delivery_pk AND a.attempt = d.attempts
        """;

    /// <summary>
    /// A page of the webhook's deliveries, newest first, optionally of one status. <paramref name="before"/> is the
    /// cursor a previous page returned (null for the first page); the next cursor is null on the last page.
    /// </summary>
    public Task<(List<DeliveryView> Deliveries, long? NextCursor)> ListDeliveriesAsync(
        string webhookId, string? status, long? before, int limit, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            var sql = new StringBuilder($"SELECT {DeliveryViewColumns} WHERE d.webhook_id = @webhook");
            if (status is not null) sql.Append(" AND d.status = @status");
            if (before is not null) sql.Append(" AND d.delivery_pk < @before");
            sql.Append(" ORDER BY d.delivery_pk DESC LIMIT @limit");
            await using var command = Command(connection, null, sql.ToString());
            AddParameter(command, "@webhook", webhookId);
            if (status is not null) AddParameter(command, "@status", status);
            if (before is not null) AddParameter(command, "@before", before.Value);
            AddParameter(command, "@limit", limit + 1); // one more tells whether another page follows
            var rows = await ReadDeliveryViewsAsync(command, cancellationToken);
            return rows.Count > limit
                ? (rows.Take(limit).Select(r => r.View).ToList(), rows[limit - 1].Pk)
                : (rows.Select(r => r.View).ToList(), (long?)null);
        }, cancellationToken);

    /// <summary>One delivery of the webhook with every attempt, oldest first; null when the webhook has no such delivery.</summary>
    public Task<(DeliveryView View, List<DeliveryAttempt> Attempts)?> GetDeliveryAsync(string webhookId, string deliveryId, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Command(connection, null, $"SELECT {DeliveryViewColumns} WHERE d.webhook_id = @webhook AND d.delivery_id = @id");
            AddParameter(command, "@webhook", webhookId);
            AddParameter(command, "@id", deliveryId);
            var rows = await ReadDeliveryViewsAsync(command, cancellationToken);
            if (rows.Count == 0) return ((DeliveryView, List<DeliveryAttempt>)?)null;

            await using var attempts = Command(connection, null, """
                SELECT attempt, attempted_at, duration_ms, status_code, error, response FROM delivery_attempts WHERE delivery_pk = @pk ORDER BY attempt
                """);
            AddParameter(attempts, "@pk", rows[0].Pk);
            var list = new List<DeliveryAttempt>();
            await using var reader = await attempts.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) list.Add(ReadAttempt(reader, 0)!);
            return (rows[0].View, list);
        }, cancellationToken);

    private static async Task<List<(DeliveryView View, long Pk)>> ReadDeliveryViewsAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var rows = new List<(DeliveryView, long)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((new DeliveryView(reader.GetString(0), reader.GetString(1), reader.GetString(2), ProspectId.ToHex((byte[])reader.GetValue(3)),
                reader.GetString(4), reader.GetString(5), reader.GetInt32(6), Time(reader, 7)!.Value, Time(reader, 8), Time(reader, 9), ReadAttempt(reader, 11)), reader.GetInt64(10)));
        }
        return rows;
    }

    private static DeliveryAttempt? ReadAttempt(DbDataReader reader, int first) =>
        reader.IsDBNull(first) ? null : new DeliveryAttempt(reader.GetInt32(first), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(first + 1)),
            reader.GetInt64(first + 2), reader.IsDBNull(first + 3) ? null : reader.GetInt32(first + 3),
            reader.IsDBNull(first + 4) ? null : reader.GetString(first + 4), reader.IsDBNull(first + 5) ? null : reader.GetString(first + 5));

    /// <summary>What a replay found.</summary>
    public enum ReplayOutcome { Replayed, NotFound, AlreadyPending }

    /// <summary>
    /// Sends a finished (failed or delivered) delivery again: it is due at once, with the whole retry schedule ahead of
    /// it. Its <c>webhook-id</c> stays the same, so a receiver that has it already can tell.
    /// </summary>
    public Task<ReplayOutcome> ReplayDeliveryAsync(string webhookId, string deliveryId, DateTimeOffset now, CancellationToken cancellationToken) =>
        ThenOutboxWritten(WriteAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction,
                $"{ReplaySet} WHERE webhook_id = @webhook AND delivery_id = @id AND status <> 'pending' RETURNING status");
            AddParameter(command, "@webhook", webhookId);
            AddParameter(command, "@id", deliveryId);
            AddParameter(command, "@now", ToUnixMs(now));
            if (await command.ExecuteScalarAsync(cancellationToken) is not null) return ReplayOutcome.Replayed;

            await using var exists = Command(connection, transaction, "SELECT 1 FROM deliveries WHERE webhook_id = @webhook AND delivery_id = @id");
            AddParameter(exists, "@webhook", webhookId);
            AddParameter(exists, "@id", deliveryId);
            return await exists.ExecuteScalarAsync(cancellationToken) is null ? ReplayOutcome.NotFound : ReplayOutcome.AlreadyPending;
        }, cancellationToken));

    /// <summary>Replays every delivery of the webhook that failed at or after <paramref name="since"/>; returns how many.</summary>
    public Task<int> RecoverFailedDeliveriesAsync(string webhookId, DateTimeOffset since, DateTimeOffset now, CancellationToken cancellationToken) =>
        ThenOutboxWritten(WriteAsync(async (connection, transaction) =>
        {
            // status = 'failed' spelled out, so the partial index of failed deliveries finds them.
            await using var command = Command(connection, transaction, $"{ReplaySet} WHERE webhook_id = @webhook AND status = 'failed' AND finished_at >= @since");
            AddParameter(command, "@webhook", webhookId);
            AddParameter(command, "@since", ToUnixMs(since));
            AddParameter(command, "@now", ToUnixMs(now));
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken));

    private const string ReplaySet = "UPDATE deliveries SET status = 'pending', schedule_base = attempts, next_attempt_at = @now, finished_at = NULL";

    /// <summary>
    /// Pending and failed deliveries per webhook, with when the oldest due one fell due, and whether the webhook is
    /// enabled (null: not registered, or deleted). Webhooks with neither pending nor failed deliveries are left out.
    /// </summary>
    public Task<List<DeliveryBacklog>> DeliveryBacklogAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            var rows = new Dictionary<string, (string Partner, long Pending, long? OldestDue, long Failed)>(StringComparer.Ordinal);
            await using (var command = Command(connection, null, """
                SELECT webhook_id, MIN(partner_id), COUNT(*), MIN(CASE WHEN next_attempt_at <= @now THEN next_attempt_at END)
                FROM deliveries WHERE status = 'pending' GROUP BY webhook_id
                """))
            {
                AddParameter(command, "@now", ToUnixMs(now));
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                    rows[reader.GetString(0)] = (reader.GetString(1), reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetInt64(3), 0);
            }
            await using (var command = Command(connection, null, "SELECT webhook_id, MIN(partner_id), COUNT(*) FROM deliveries WHERE status = 'failed' GROUP BY webhook_id"))
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var row = rows.GetValueOrDefault(reader.GetString(0), (reader.GetString(1), 0, null, 0));
                    rows[reader.GetString(0)] = row with { Failed = reader.GetInt64(2) };
                }
            }
            var enabled = new Dictionary<string, bool>(StringComparer.Ordinal);
            await using (var command = Command(connection, null, "SELECT webhook_id, CASE WHEN disabled_at IS NULL THEN 1 ELSE 0 END FROM webhooks WHERE removed_at IS NULL"))
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken)) enabled[reader.GetString(0)] = Int(reader, 1) == 1;
            }
            return rows.OrderBy(r => r.Value.Partner, StringComparer.Ordinal).ThenBy(r => r.Key, StringComparer.Ordinal).Select(r =>
                new DeliveryBacklog(r.Value.Partner, r.Key, r.Value.Pending, r.Value.Failed,
                    r.Value.OldestDue is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null,
                    enabled.TryGetValue(r.Key, out var on) ? on : null)).ToList();
        }, cancellationToken);
}
