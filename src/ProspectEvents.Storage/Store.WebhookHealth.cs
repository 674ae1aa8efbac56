
namespace ProspectEvents.Storage;

/// <summary>Reads for the operator page over every partner's webhooks: their health, the latest dead letters.</summary>
public abstract partial class Store
{
    /// <summary>Attempts in a window: answered 2xx, or not; the 95th percentile of their durations (null: none).</summary>
    public sealed record AttemptWindow(long Delivered, long Failed, long? P95Ms);

    /// <summary>
    /// A registered webhook's state: its backlog (pending; failed, the dead letters; when the oldest due delivery fell
    /// due) and its attempts of the last hour and day.
    /// </summary>
    public sealed record WebhookHealth(
        string WebhookId, string PartnerId, string PartnerName, bool Legacy, string Name, string WebhookUrl,
        DateTimeOffset? DisabledAt, string? DisabledReason, DateTimeOffset? FailingSince,
        long Pending, long Failed, DateTimeOffset? OldestDueAt, AttemptWindow LastHour, AttemptWindow LastDay);

    /// <summary>
    /// The health of every registered webhook (legacy and v2), by partner then creation. Each backlog figure is an
    /// index read (deliveries_due, deliveries_failed); the attempts are a range of delivery_attempts_recent, grouped
    /// by duration so the percentile is exact without reading attempts one by one.
    /// </summary>
    public Task<List<WebhookHealth>> WebhookHealthAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            var hour = ToUnixMs(now.AddHours(-1));
            var durations = new Dictionary<string, List<(long Ms, bool InHour, bool Ok, long Count)>>(StringComparer.Ordinal);
            // The webhook by a primary-key lookup per attempt, not a join: with a join, PostgreSQL hashed the whole
            // deliveries table to match a day's attempts (a scan that grows with the table, not with the day).
            await using (var command = Command(connection, null, """
                SELECT w.webhook_id, w.duration_ms, w.in_hour, w.ok, COUNT(*) FROM (
                    SELECT (SELECT d.webhook_id FROM deliveries d WHERE d.delivery_pk = a.delivery_pk) AS webhook_id, a.duration_ms,
                           CASE WHEN a.attempted_at >= @hour THEN 1 ELSE 0 END AS in_hour,
                           CASE WHEN a.status_code BETWEEN 200 AND 299 THEN 1 ELSE 0 END AS ok
                    FROM delivery_attempts a
                    WHERE a.attempted_at >= @day AND a.attempted_at <= @now) w
                GROUP BY w.webhook_id, w.duration_ms, w.in_hour, w.ok
                """))
            {
                AddParameter(command, "@hour", hour);
                AddParameter(command, "@day", ToUnixMs(now.AddDays(-1)));
                AddParameter(command, "@now", ToUnixMs(now));
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    if (reader.IsDBNull(0)) continue; // an attempt whose delivery is gone (its webhook deleted)
                    if (!durations.TryGetValue(reader.GetString(0), out var rows)) durations[reader.GetString(0)] = rows = [];
                    rows.Add((reader.GetInt64(1), Int(reader, 2) == 1, Int(reader, 3) == 1, reader.GetInt64(4)));
                }
            }

            var health = new List<WebhookHealth>();
            await using (var command = Command(connection, null, """
                SELECT w.webhook_id, w.partner_id, p.name, w.legacy, w.name, w.webhook_url, w.disabled_at, w.disabled_reason, w.failing_since,
                       (SELECT COUNT(*) FROM deliveries d WHERE d.webhook_id = w.webhook_id AND d.status = 'pending'),
                       (SELECT COUNT(*) FROM deliveries d WHERE d.webhook_id = w.webhook_id AND d.status = 'failed'),
                       (SELECT MIN(d.next_attempt_at) FROM deliveries d WHERE d.webhook_id = w.webhook_id AND d.status = 'pending' AND d.next_attempt_at <= @now)
                FROM webhooks w JOIN partners p ON p.partner_id = w.partner_id
                WHERE w.removed_at IS NULL
                ORDER BY p.name, w.partner_id, w.legacy DESC, w.created_at, w.webhook_id
                """))
            {
                AddParameter(command, "@now", ToUnixMs(now));
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var rows = durations.GetValueOrDefault(reader.GetString(0)) ?? [];
                    health.Add(new WebhookHealth(reader.GetString(0), reader.GetString(1), reader.GetString(2), Int(reader, 3) == 1,
                        reader.GetString(4), reader.GetString(5), Time(reader, 6), reader.IsDBNull(7) ? null : reader.GetString(7), Time(reader, 8),
                        reader.GetInt64(9), reader.GetInt64(10), Time(reader, 11), Window(rows.Where(r => r.InHour)), Window(rows)));
                }
            }
            return health;
        }, cancellationToken);

    private static AttemptWindow Window(IEnumerable<(long Ms, bool InHour, bool Ok, long Count)> rows)
    {
        var list = rows.ToList();
        var byDuration = list.GroupBy(r => r.Ms).Select(g => (Ms: g.Key, Count: g.Sum(r => r.Count))).OrderBy(g => g.Ms).ToList();
        var total = byDuration.Sum(g => g.Count);
        long? p95 = null;
        // Nearest rank: the smallest duration with at least 95 % of the attempts at or below it.
        var rank = (long)Math.Ceiling(total * 0.95);
        long seen = 0;
        foreach (var (ms, count) in byDuration)
        {
            seen += count;
            if (seen >= rank) { p95 = ms; break; }
        }
        return new AttemptWindow(list.Where(r => r.Ok).Sum(r => r.Count), list.Where(r => !r.Ok).Sum(r => r.Count), total == 0 ? null : p95);
    }

    /// <summary>A dead letter with where it was going and why its last attempt failed.</summary>
    public sealed record FailedDelivery(
        string DeliveryId, string PartnerId, string PartnerName, string WebhookId, string? WebhookName, string EventId, string EventName,
        string ProspectId, string EnrollmentKey, int Attempts, DateTimeOffset? FinishedAt, int? LastStatusCode, string? LastError);

    /// <summary>The <paramref name="limit"/> latest failed deliveries over all partners, latest failure first (deliveries_failed_recent).</summary>
    public Task<List<FailedDelivery>> RecentFailedDeliveriesAsync(int limit, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Command(connection, null, """
                SELECT d.delivery_id, d.partner_id, p.name, d.webhook_id, w.name, d.event_id, e.event_name, e.prospect_id, d.enrollment_key,
                       d.attempts, d.finished_at, a.status_code, a.error
                FROM deliveries d
                JOIN partners p ON p.partner_id = d.partner_id
                JOIN events e ON e.event_id = d.event_id
                LEFT JOIN webhooks w ON w.webhook_id = d.webhook_id
                LEFT JOIN delivery_attempts a ON a.delivery_pk = d.delivery_pk AND a.attempt = d.attempts
                WHERE d.status = 'failed'
                ORDER BY d.finished_at DESC, d.delivery_pk DESC
                LIMIT @limit
                """);
            AddParameter(command, "@limit", limit);
            var failed = new List<FailedDelivery>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                failed.Add(new FailedDelivery(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(5), reader.GetString(6), ProspectId.ToHex((byte[])reader.GetValue(7)),
                    reader.GetString(8), Int(reader, 9), Time(reader, 10), reader.IsDBNull(11) ? null : Int(reader, 11),
                    reader.IsDBNull(12) ? null : reader.GetString(12)));
            return failed;
        }, cancellationToken);

    /// <summary>The webhook a delivery goes to, whichever partner's it is; null when there is no such delivery.</summary>
    public Task<string?> WebhookOfDeliveryAsync(string deliveryId, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Command(connection, null, "SELECT webhook_id FROM deliveries WHERE delivery_id = @id");
            AddParameter(command, "@id", deliveryId);
            return await command.ExecuteScalarAsync(cancellationToken) as string;
        }, cancellationToken);
}
