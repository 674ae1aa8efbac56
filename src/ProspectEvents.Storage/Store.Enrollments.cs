using System.Data.Common;
using System.Text;
using Dapper;

namespace ProspectEvents.Storage;

public abstract partial class Store
{
    /// <summary>
    /// Creates the enrollment named by the request's key, or adds to the existing one: prospects are added
    /// (re-adding refreshes their expiry) and event types are unioned. Returns the enrollment id, which
    /// never changes for a key. Safe under concurrency: the unique (partner, key) index decides who creates it.
    /// </summary>
    public Task<string> UpsertEnrollmentAsync(string partnerId, EnrollmentRequest request, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
            (await UpsertEnrollmentAsync(connection, transaction, partnerId, null, request, now, cancellationToken))!.Value.EnrollmentId, cancellationToken);

    /// <summary>
    /// The upsert both versions share. With a <paramref name="webhookId"/> (v2) an existing enrollment is added to only
    /// if it delivers to that webhook already: null otherwise, and nothing is written. <c>Created</c>: the key was new.
    /// </summary>
    private async Task<(string EnrollmentId, bool Created)?> UpsertEnrollmentAsync(DbConnection connection, DbTransaction transaction,
        string partnerId, string? webhookId, EnrollmentRequest request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _enrollmentWrites);
        // The hot path of the API: plain commands (kept prepared where the provider can) rather than Dapper.
        await using var command = Command(connection, transaction, UpsertEnrollmentSql);
        AddParameter(command, "@id", Ids.NewEnrollmentId());
        AddParameter(command, "@partnerId", partnerId);
        AddParameter(command, "@key", request.EnrollmentKey);
        AddParameter(command, "@types", (int)request.EventTypes);
        AddParameter(command, "@webhook", webhookId);
        AddParameter(command, "@now", ToUnixMs(now));
        long enrollmentPk;
        string enrollmentId;
        bool created;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken)) return null;
            (enrollmentPk, enrollmentId, created) = (reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2) == 1);
        }
        await UpsertProspectsAsync(connection, transaction, enrollmentPk, request, now, cancellationToken);
        return (enrollmentId, created);
    }

    // A new enrollment starts unindexed at revision 1; every later write bumps its revision and queues it for the fan-out
    // indexer again (Store.Fanout.cs), so revision 1 in the answer means the row was inserted. v1 (webhook NULL) adds to
    // any enrollment of the key; v2 only to one delivering to the same webhook, decided in this one statement so two
    // concurrent posts cannot both pass a check made before it.
    private static readonly string UpsertEnrollmentSql = $"""
        INSERT INTO enrollments (enrollment_id, partner_id, enrollment_key, event_types, created_at, updated_at, webhook_id)
        VALUES (@id, @partnerId, @key, @types, @now, @now, @webhook)
        ON CONFLICT (partner_id, enrollment_key)
        DO UPDATE SET event_types = enrollments.event_types | excluded.event_types, updated_at = excluded.updated_at, revision = enrollments.revision + 1, unindexed = 1
        WHERE excluded.webhook_id IS NULL OR excluded.webhook_id = {BoundWebhook("enrollments")}
        RETURNING enrollment_pk, enrollment_id, revision
        """;

    /// <summary>Makes the enrollment exactly what the request says: key, event types, prospects and their expiry.</summary>
    public async Task<ReplaceOutcome> ReplaceEnrollmentAsync(
        string partnerId, string enrollmentId, EnrollmentRequest request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteAsync(async (connection, transaction) =>
            {
                Interlocked.Increment(ref _enrollmentWrites);
                var enrollmentPk = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
                    """
                    UPDATE enrollments SET enrollment_key = @key, event_types = @types, updated_at = @now, revision = revision + 1, unindexed = 1
                    WHERE enrollment_id = @enrollmentId AND partner_id = @partnerId
                    RETURNING enrollment_pk
                    """,
                    new { enrollmentId, partnerId, key = request.EnrollmentKey, types = (int)request.EventTypes, now = ToUnixMs(now) },
                    transaction, cancellationToken: cancellationToken));
                if (enrollmentPk is not { } pk) return ReplaceOutcome.NotFound;
                await connection.ExecuteAsync(new CommandDefinition(
                    "DELETE FROM enrollment_prospects WHERE enrollment_pk = @pk", new { pk }, transaction, cancellationToken: cancellationToken));
                await UpsertProspectsAsync(connection, transaction, pk, request, now, cancellationToken);
                return ReplaceOutcome.Replaced;
            }, cancellationToken);
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            return ReplaceOutcome.KeyTaken;
        }
    }

    /// <summary>Deletes one of the partner's enrollments; false when the partner has no such enrollment.</summary>
    public Task<bool> DeleteEnrollmentAsync(string partnerId, string enrollmentId, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var deleted = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
                "DELETE FROM enrollments WHERE enrollment_id = @enrollmentId AND partner_id = @partnerId RETURNING enrollment_pk",
                new { enrollmentId, partnerId }, transaction, cancellationToken: cancellationToken));
            if (deleted is not { } pk) return false;
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM enrollment_prospects WHERE enrollment_pk = @pk", new { pk }, transaction, cancellationToken: cancellationToken));
            return true;
        }, cancellationToken);

    /// <summary>
    /// The partner's enrollments, oldest first (by creation), each with the prospects still monitored at <paramref name="now"/>.
    /// One statement, so the page is a consistent snapshot on both providers.
    /// </summary>
    public Task<List<Enrollment>> ListEnrollmentsAsync(string partnerId, DateTimeOffset now, int offset, int limit, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            var rows = await connection.QueryAsync<(string EnrollmentId, string EnrollmentKey, int EventTypes, byte[]? ProspectId, string? WebhookId, string Status)>(new CommandDefinition(
                """
                SELECT e.enrollment_id, e.enrollment_key, e.event_types, p.prospect_id,
                       COALESCE(e.webhook_id, (SELECT w.webhook_id FROM webhooks w WHERE w.partner_id = @partnerId AND w.legacy = 1 AND w.removed_at IS NULL)),
                       e.status
                FROM (SELECT enrollment_pk, enrollment_id, enrollment_key, event_types, webhook_id, status FROM enrollments
                      WHERE partner_id = @partnerId ORDER BY enrollment_pk LIMIT @limit OFFSET @offset) e
                LEFT JOIN enrollment_prospects p
                       ON p.enrollment_pk = e.enrollment_pk AND (p.expires_at IS NULL OR p.expires_at > @now)
                ORDER BY e.enrollment_pk, p.prospect_id
                """,
                new { partnerId, now = ToUnixMs(now), offset, limit }, cancellationToken: cancellationToken));

            var enrollments = new List<Enrollment>();
            foreach (var row in rows)
            {
                if (enrollments.Count == 0 || enrollments[^1].EnrollmentId != row.EnrollmentId)
                    enrollments.Add(new Enrollment(row.EnrollmentId, row.EnrollmentKey, (EventTypes)row.EventTypes, [], row.WebhookId, row.Status));
                if (row.ProspectId is not null) enrollments[^1].ProspectIds.Add(ProspectId.ToHex(row.ProspectId));
            }
            return enrollments;
        }, cancellationToken);

    /// <summary>
    /// Inserts the request's prospects in one multi-row statement, in key order (sorted B-tree inserts are several
    /// times faster in SQLite and take row locks in one order in PostgreSQL, so concurrent writers cannot deadlock).
    /// </summary>
    private async Task UpsertProspectsAsync(
        DbConnection connection, DbTransaction transaction, long enrollmentPk, EnrollmentRequest request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ids = request.ProspectIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        // At most ProspectsPerStatement a statement: a v2 request brings 1,000, and SQLite binds each named parameter by
        // scanning the statement's names, so one statement of them all costs the square of its size.
        foreach (var chunk in ids.Chunk(ProspectsPerStatement))
        {
            await using var command = Command(connection, transaction, ProspectUpsertSql(chunk.Length));
            AddParameter(command, "@e", enrollmentPk);
            AddParameter(command, "@a", ToUnixMs(now));
            AddParameter(command, "@x", request.ExpiresAt is { } expiry ? ToUnixMs(expiry) : null);
            for (var i = 0; i < chunk.Length; i++) AddParameter(command, ParameterName(ProspectParameters, "@p", i), ProspectId.ToBytes(chunk[i]));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private const int ProspectsPerStatement = 100;

    private static readonly string?[] ProspectUpsertSqlByCount = new string?[ProspectsPerStatement + 1];

    private static string ProspectUpsertSql(int count)
    {
        if (count < ProspectUpsertSqlByCount.Length && ProspectUpsertSqlByCount[count] is { } cached) return cached;
        var sql = new StringBuilder("INSERT INTO enrollment_prospects (enrollment_pk, prospect_id, added_at, expires_at) VALUES ");
        for (var i = 0; i < count; i++) sql.Append(i == 0 ? "" : ", ").Append("(@e, @p").Append(i).Append(", @a, @x)");
        sql.Append(" ON CONFLICT (enrollment_pk, prospect_id) DO UPDATE SET added_at = excluded.added_at, expires_at = excluded.expires_at");
        var text = sql.ToString();
        if (count < ProspectUpsertSqlByCount.Length) ProspectUpsertSqlByCount[count] = text;
        return text;
    }

}
