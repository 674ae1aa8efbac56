using Dapper;

namespace ProspectEvents.Storage;

public abstract partial class Store
{
    public sealed record Counts(long Partners, long Enrollments, long MonitoredProspects, long Events, long EventMatches, long UnindexedEnrollments);

    /// <summary>
    /// Operator counts; a prospect in two enrollments counts twice, an expired one not at all. Unindexed enrollments
    /// are those the fan-out indexer has yet to reach (see <see cref="IndexEnrollmentsAsync"/>).
    /// </summary>
    public Task<Counts> CountsAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        ReadAsync(c => c.QuerySingleAsync<Counts>(new CommandDefinition(
            """
            SELECT (SELECT COUNT(*) FROM partners) AS Partners,
                   (SELECT COUNT(*) FROM enrollments) AS Enrollments,
                   (SELECT COUNT(*) FROM enrollment_prospects WHERE expires_at IS NULL OR expires_at > @now) AS MonitoredProspects,
                   (SELECT COUNT(*) FROM events) AS Events,
                   (SELECT COUNT(*) FROM deliveries) AS EventMatches,
                   (SELECT COUNT(*) FROM enrollments WHERE unindexed = 1) AS UnindexedEnrollments
            """, new { now = ToUnixMs(now) }, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>A stored event and the number of enrollments it matched when it was detected.</summary>
    public sealed record MatchedEvent(string EventId, string EventName, string ProspectId, DateTimeOffset DetectedAt, long Matches);

    /// <summary>The <paramref name="limit"/> latest detected events, newest first, with their match counts.</summary>
    public Task<List<MatchedEvent>> RecentEventsAsync(int limit, CancellationToken cancellationToken) =>
        ReadAsync(async c =>
        {
            var rows = await c.QueryAsync<(string EventId, string EventName, byte[] ProspectId, long DetectedAt, long Matches)>(new CommandDefinition(
                """
                SELECT ev.event_id, ev.event_name, ev.prospect_id, ev.detected_at,
                       (SELECT COUNT(*) FROM deliveries d WHERE d.event_id = ev.event_id)
                FROM events ev ORDER BY ev.detected_at DESC, ev.event_id DESC LIMIT @limit
                """, new { limit }, cancellationToken: cancellationToken));
            return rows.Select(r => new MatchedEvent(r.EventId, r.EventName, ProspectId.ToHex(r.ProspectId), DateTimeOffset.FromUnixTimeMilliseconds(r.DetectedAt), r.Matches)).ToList();
        }, cancellationToken);

    /// <summary>Events detected on one UTC day, by event name.</summary>
    public sealed record DayCounts(DateOnly Day, IReadOnlyDictionary<string, long> ByEventName);

    /// <summary>
    /// Events detected per UTC day and event name, for the <paramref name="days"/> days that end with today (of
    /// <paramref name="now"/>), oldest first, one entry per day, days without events included.
    /// </summary>
    public Task<List<DayCounts>> EventsPerDayAsync(int days, DateTimeOffset now, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            var today = DateOnly.FromDateTime(now.UtcDateTime);
            var first = today.AddDays(1 - days);
            var from = new DateTimeOffset(first.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            var perDay = new Dictionary<long, Dictionary<string, long>>();
            // A range of events_by_detection; the day is the integer division of the Unix milliseconds.
            await using var command = Command(connection, null, """
                SELECT detected_at / 86400000 AS day, event_name, COUNT(*) FROM events
                WHERE detected_at >= @from AND detected_at < @to GROUP BY detected_at / 86400000, event_name
                """);
            AddParameter(command, "@from", ToUnixMs(from));
            AddParameter(command, "@to", ToUnixMs(from.AddDays(days)));
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
                while (await reader.ReadAsync(cancellationToken))
                {
                    var day = Convert.ToInt64(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture);
                    if (!perDay.TryGetValue(day, out var names)) perDay[day] = names = new(StringComparer.Ordinal);
                    names[reader.GetString(1)] = reader.GetInt64(2);
                }
            var firstDay = from.ToUnixTimeMilliseconds() / 86_400_000;
            return Enumerable.Range(0, days).Select(i => new DayCounts(first.AddDays(i),
                perDay.TryGetValue(firstDay + i, out var names) ? names : new Dictionary<string, long>())).ToList();
        }, cancellationToken);
}
