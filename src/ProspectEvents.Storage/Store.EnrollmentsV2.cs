using System.Data.Common;

namespace ProspectEvents.Storage;

/// <summary>
/// The v2 enrollment writes: an enrollment bound to one of the partner's webhooks, which must be registered, the
/// partner's own and active when it is named. v1 and v2 see one set of enrollments (docs/api.md).
/// </summary>
public abstract partial class Store
{
    /// <summary>
    /// Creates the enrollment named by the request's key bound to <paramref name="webhookId"/>, or adds to the existing one
    /// as v1 does when it delivers to that webhook already; <see cref="EnrollmentWrite.WebhookConflict"/> when it delivers
    /// to another.
    /// </summary>
    public Task<EnrollmentWriteResult> UpsertEnrollmentV2Async(string partnerId, string webhookId, EnrollmentRequest request, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            if (await CheckBindableAsync(connection, transaction, partnerId, webhookId, cancellationToken) is { } refused) return new EnrollmentWriteResult(refused);
            if (await UpsertEnrollmentAsync(connection, transaction, partnerId, webhookId, request, now, cancellationToken) is not { } saved)
                return new EnrollmentWriteResult(EnrollmentWrite.WebhookConflict);
            return new EnrollmentWriteResult(saved.Created ? EnrollmentWrite.Created : EnrollmentWrite.Added, saved.EnrollmentId, request.EnrollmentKey, webhookId, EnrollmentStatus.Active);
        }, cancellationToken);

    /// <summary>
    /// Applies a v2 partial update. Naming a webhook binds the enrollment to it and makes it active again (how a paused
    /// one comes back); new prospects replace the old ones, with <paramref name="expiresAt"/>.
    /// </summary>
    public async Task<EnrollmentWriteResult> PatchEnrollmentAsync(
        string partnerId, string enrollmentId, EnrollmentPatch patch, DateTimeOffset? expiresAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteAsync(async (connection, transaction) =>
            {
                if (patch.WebhookId is { } webhookId &&
                    await CheckBindableAsync(connection, transaction, partnerId, webhookId, cancellationToken) is { } refused) return new EnrollmentWriteResult(refused);
                Interlocked.Increment(ref _enrollmentWrites);
                var prospects = patch.ProspectIds is not null;
                await using var command = Command(connection, transaction, $$"""
                    UPDATE enrollments SET
                        enrollment_key = COALESCE(@key, enrollment_key),
                        event_types = CASE WHEN @types < 0 THEN event_types ELSE @types END,
                        webhook_id = CASE WHEN @repoint = 1 THEN @webhook ELSE webhook_id END,
                        status = CASE WHEN @repoint = 1 THEN 'active' ELSE status END,
                        revision = revision + @prospects, unindexed = CASE WHEN @prospects = 1 THEN 1 ELSE unindexed END,
                        updated_at = @now
                    WHERE enrollment_id = @id AND partner_id = @partner
                    RETURNING enrollment_pk, enrollment_key, status, {{BoundWebhook("enrollments")}}
                    """);
                AddParameter(command, "@id", enrollmentId);
                AddParameter(command, "@partner", partnerId);
                AddParameter(command, "@key", patch.EnrollmentKey);
                AddParameter(command, "@types", patch.EventTypes is { } types ? (int)types : -1);
                AddParameter(command, "@repoint", patch.WebhookId is null ? 0 : 1);
                AddParameter(command, "@webhook", patch.WebhookId);
                AddParameter(command, "@prospects", prospects ? 1 : 0);
                AddParameter(command, "@now", ToUnixMs(now));
                long pk;
                string key, status;
                string? webhook;
                await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
                {
                    if (!await reader.ReadAsync(cancellationToken)) return new EnrollmentWriteResult(EnrollmentWrite.NotFound);
                    (pk, key, status, webhook) = (reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3));
                }
                if (prospects)
                {
                    await using (var delete = Command(connection, transaction, "DELETE FROM enrollment_prospects WHERE enrollment_pk = @pk"))
                    {
                        AddParameter(delete, "@pk", pk);
                        await delete.ExecuteNonQueryAsync(cancellationToken);
                    }
                    await UpsertProspectsAsync(connection, transaction, pk, new EnrollmentRequest(key, EventTypes.None, patch.ProspectIds!, expiresAt), now, cancellationToken);
                }
                return new EnrollmentWriteResult(EnrollmentWrite.Updated, enrollmentId, key, webhook, status);
            }, cancellationToken);
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            return new EnrollmentWriteResult(EnrollmentWrite.KeyTaken);
        }
    }

    /// <summary>
    /// SQL for the webhook the enrollment row <paramref name="alias"/> delivers to: its own, or for a v1 one the partner's
    /// registered legacy webhook (null when there is none).
    /// </summary>
    private static string BoundWebhook(string alias) =>
        $"COALESCE({alias}.webhook_id, (SELECT w.webhook_id FROM webhooks w WHERE w.partner_id = {alias}.partner_id AND w.legacy = 1 AND w.removed_at IS NULL))";

    /// <summary>Null when the partner may bind an enrollment to the webhook; else why not.</summary>
    private async Task<EnrollmentWrite?> CheckBindableAsync(DbConnection connection, DbTransaction transaction, string partnerId, string webhookId, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, "SELECT partner_id, disabled_at FROM webhooks WHERE webhook_id = @id AND removed_at IS NULL");
        AddParameter(command, "@id", webhookId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return EnrollmentWrite.WebhookNotFound;
        return reader.GetString(0) != partnerId || !reader.IsDBNull(1) ? EnrollmentWrite.WebhookUnusable : null;
    }
}
