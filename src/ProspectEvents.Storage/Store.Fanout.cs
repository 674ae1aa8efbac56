using System.Data.Common;

namespace ProspectEvents.Storage;

/// <summary>
/// Fan-out: which active enrollments each new event goes to. enrollment_prospects has no index by prospect (it would
/// make every enrollment write several times dearer), so <see cref="IndexEnrollmentsAsync"/> keeps
/// prospect_enrollments in the background, and matching reads the prospects of the enrollments it has not reached yet
/// (unindexed = 1) directly. Schema and reasons: Migrations/*/0004_fanout.sql.
/// </summary>
public abstract partial class Store
{
    /// <summary>
    /// Records a pending delivery (the outbox row, see Migrations/*/0006_webhooks.sql) for each of the given events
    /// and each enrollment that monitors it: the prospect is enrolled and not expired when the event was detected, and
    /// the enrollment subscribes to the event's type. Runs in the caller's transaction, so events and their deliveries
    /// commit together. Pass only the events this transaction inserted: one stored earlier already got its matches then.
    /// </summary>
    internal async Task MatchEventsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<string> eventIds, CancellationToken cancellationToken)
    {
        if (eventIds.Count == 0) return;
        // One list parameter, whatever the count: a statement of 500 placeholders padded out took a fifth of
        // PostgreSQL's time in a steady ingest, binding included, for batches that hold about 100 new events.
        await using var command = Command(connection, transaction, _matchEventsSql ??= MatchEventsSql(NewDeliveryIdSql, SelectTextsSql("@events")));
        AddParameter(command, "@events", Texts(eventIds));
        AddParameter(command, "@firstDelay", (long)FirstDeliveryDelay.TotalMilliseconds);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private string? _matchEventsSql;

    /// <summary>How long after detection a delivery is first due: the first step of Webhooks:RetrySchedule.</summary>
    public TimeSpan FirstDeliveryDelay { get; set; }

    /// <summary>An SQL expression for a new random public delivery id, <c>msg_</c> and 24 hex.</summary>
    protected abstract string NewDeliveryIdSql { get; }

    // A delivery goes to the enrollment's own webhook (v2) or the partner's legacy one (v1); a paused enrollment matches
    // nothing. Candidates are the indexed enrollments of the events' prospects and the unindexed enrollments' rows of them.
    // Each candidate is checked against the live rows, which drops the stale index rows of removed prospects. The
    // unindexed rows are joined, not filtered with IN: with IN, SQLite probed each unindexed enrollment once per event
    // instead of reading its rows once (8× slower with 10,000 unindexed enrollments and 800 events).
    private static string MatchEventsSql(string newDeliveryId, string selectEventIds) => $"""
        WITH new_events AS (
            SELECT event_id, event_name, prospect_id, detected_at FROM events
            WHERE event_id IN ({selectEventIds})),
        candidates AS (
            SELECT prospect_id, enrollment_pk FROM prospect_enrollments
            WHERE prospect_id IN (SELECT prospect_id FROM new_events)
            UNION
            SELECT ep.prospect_id, ep.enrollment_pk FROM enrollments u
            JOIN enrollment_prospects ep ON ep.enrollment_pk = u.enrollment_pk
            JOIN new_events x ON x.prospect_id = ep.prospect_id
            WHERE u.unindexed = 1)
        INSERT INTO deliveries (delivery_id, event_id, enrollment_pk, partner_id, enrollment_key, status, created_at, next_attempt_at, webhook_id, enrollment_id)
        SELECT {newDeliveryId}, ne.event_id, e.enrollment_pk, e.partner_id, e.enrollment_key, 'pending', ne.detected_at, ne.detected_at + @firstDelay,
               COALESCE(e.webhook_id, lw.webhook_id, ''), CASE WHEN e.webhook_id IS NOT NULL THEN e.enrollment_id END
        FROM new_events ne
        JOIN candidates c ON c.prospect_id = ne.prospect_id
        JOIN enrollment_prospects ep ON ep.enrollment_pk = c.enrollment_pk AND ep.prospect_id = c.prospect_id
        JOIN enrollments e ON e.enrollment_pk = c.enrollment_pk
        LEFT JOIN webhooks lw ON e.webhook_id IS NULL AND lw.partner_id = e.partner_id AND lw.legacy = 1
        WHERE e.status = 'active' AND (ep.expires_at IS NULL OR ep.expires_at > ne.detected_at)
          AND e.event_types & (CASE ne.event_name {string.Join(" ", EventTypeNames.All.Select(n => $"WHEN '{n}' THEN {(int)TypeOf(n)}"))} ELSE 0 END) <> 0
        ORDER BY ne.detected_at, ne.event_id, e.enrollment_pk
        """;

    private static EventTypes TypeOf(string name) => EventTypeNames.TryParse(name, out var type) ? type : EventTypes.None;

    private long _enrollmentWrites;

    /// <summary>Enrollment adds and replacements run by this process so far: the indexer holds back while they pour in.</summary>
    public long EnrollmentWrites => Interlocked.Read(ref _enrollmentWrites);

    /// <summary>
    /// One pass of the fan-out indexer: copies the prospects of up to <paramref name="maxEnrollments"/> unindexed
    /// enrollments (oldest first, whole enrollments until <paramref name="maxRows"/> prospects are reached, at least one)
    /// into prospect_enrollments in prospect order, as sorted inserts are several times cheaper, and marks each
    /// enrollment indexed at the revision copied, unless a write has changed it since. One short transaction, under a
    /// lock so the passes of several processes take turns. <see cref="IndexPass.CaughtUp"/>: nothing was left over.
    /// </summary>
    public Task<IndexPass> IndexEnrollmentsAsync(int maxEnrollments, CancellationToken cancellationToken, int maxRows = int.MaxValue) =>
        WriteAsync(async (connection, transaction) =>
        {
            await LockAsync(connection, transaction, IndexerLock, cancellationToken);
            var revisions = new Dictionary<long, long>();
            var rows = new List<(byte[] ProspectId, long EnrollmentPk)>();
            var cut = false;
            await using (var command = Command(connection, transaction, UnindexedSql))
            {
                AddParameter(command, "@limit", maxEnrollments);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var enrollmentPk = reader.GetInt64(0);
                    // Rows come by enrollment: the pass ends at the first enrollment boundary past the row budget, so
                    // a pass of 1,000-prospect (v2) enrollments holds the writer no longer than one of small ones.
                    if (!revisions.ContainsKey(enrollmentPk))
                    {
                        if (rows.Count >= maxRows)
                        {
                            cut = true;
                            break;
                        }
                        revisions[enrollmentPk] = reader.GetInt64(1);
                    }
                    if (!reader.IsDBNull(2)) rows.Add(((byte[])reader.GetValue(2), enrollmentPk));
                }
            }
            rows.Sort((a, b) => a.ProspectId.AsSpan().SequenceCompareTo(b.ProspectId) is var c and not 0 ? c : a.EnrollmentPk.CompareTo(b.EnrollmentPk));

            await ExecuteInChunksAsync(connection, transaction, IndexInsertSql, IndexRowsPerStatement, rows, (command, i, row) =>
            {
                AddParameter(command, $"@p{i}", row.ProspectId);
                AddParameter(command, $"@k{i}", row.EnrollmentPk);
            }, cancellationToken);
            await ExecuteInChunksAsync(connection, transaction, MarkIndexedSql, IndexRowsPerStatement, revisions.ToList(), (command, i, enrollment) =>
            {
                AddParameter(command, $"@k{i}", enrollment.Key);
                AddParameter(command, $"@r{i}", enrollment.Value);
            }, cancellationToken);
            return new IndexPass(revisions.Count, CaughtUp: !cut && revisions.Count < maxEnrollments);
        }, cancellationToken);

    /// <summary>What one indexer pass did: the enrollments it indexed, and whether none was left for the next.</summary>
    public readonly record struct IndexPass(int Enrollments, bool CaughtUp);

    private const int IndexRowsPerStatement = 100;

    // One statement, so an enrollment's revision and its prospects are read in one snapshot; in enrollment_prospects'
    // key order, so the pass can stop between enrollments (the rows are sorted by prospect before they are copied).
    private const string UnindexedSql = """
        SELECT u.enrollment_pk, u.revision, ep.prospect_id
        FROM (SELECT enrollment_pk, revision FROM enrollments WHERE unindexed = 1 ORDER BY enrollment_pk LIMIT @limit) u
        LEFT JOIN enrollment_prospects ep ON ep.enrollment_pk = u.enrollment_pk
        ORDER BY u.enrollment_pk, ep.prospect_id
        """;

    private static readonly string IndexInsertSql =
        $"INSERT INTO prospect_enrollments (prospect_id, enrollment_pk) VALUES {Placeholders(IndexRowsPerStatement, i => $"(@p{i}, @k{i})")} ON CONFLICT DO NOTHING";

    // A write that committed since the read bumped the revision: that enrollment stays unindexed for the next pass.
    private static readonly string MarkIndexedSql =
        $"UPDATE enrollments SET unindexed = 0 WHERE (enrollment_pk, revision) IN (VALUES {Placeholders(IndexRowsPerStatement, i => $"(@k{i}, @r{i})")})";

    private static string Placeholders(int count, Func<int, string> one) => string.Join(", ", Enumerable.Range(0, count).Select(one));

    /// <summary>
    /// Runs <paramref name="sql"/>, written for <paramref name="perStatement"/> items, over <paramref name="items"/> a
    /// chunk at a time. A short chunk repeats its last item (harmless in an IN list or an insert that ignores
    /// conflicts), so each statement has one text to prepare.
    /// </summary>
    private async Task ExecuteInChunksAsync<T>(DbConnection connection, DbTransaction transaction, string sql, int perStatement,
        IReadOnlyList<T> items, Action<DbCommand, int, T> bind, CancellationToken cancellationToken)
    {
        foreach (var chunk in items.Chunk(perStatement))
        {
            await using var command = Command(connection, transaction, sql);
            for (var i = 0; i < perStatement; i++) bind(command, i, chunk[Math.Min(i, chunk.Length - 1)]);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
