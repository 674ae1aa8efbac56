using System.Data.Common;

namespace ProspectEvents.Storage;

/// <summary>
/// Webhooks (Migrations/*/0010_webhooks_as_resources.sql): up to <see cref="WebhookModel.MaxPerPartner"/> per partner.
/// The v1 API manages the partner's legacy one, addressed by partner; the v2 API the others, addressed by id.
/// </summary>
public abstract partial class Store
{
    private const string WebhookColumns =
        "webhook_id, partner_id, legacy, name, description, webhook_url, secret, previous_secret, previous_secret_until, headers, payload_format, " +
        "created_at, updated_at, disabled_at, disabled_reason, failing_since, removed_at";

    // Registered webhooks only: a legacy row with removed_at set is "no webhook".
    private const string Registered = "removed_at IS NULL";

    /// <summary>The partner's legacy row, made with the partner: v1 enrollments' deliveries wait for it until it is registered.</summary>
    private async Task InsertLegacyWebhookAsync(DbConnection connection, DbTransaction transaction, string partnerId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, $"""
            INSERT INTO webhooks (webhook_id, partner_id, legacy, name, webhook_url, secret, headers, payload_format, created_at, updated_at, removed_at)
            VALUES (@id, @partner, 1, '{WebhookModel.LegacyName}', '', @secret, '', 'json', @now, @now, @now)
            """);
        AddParameter(command, "@id", Ids.NewWebhookId());
        AddParameter(command, "@partner", partnerId);
        AddParameter(command, "@secret", System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        AddParameter(command, "@now", ToUnixMs(now));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Registers the partner's v1 webhook, or replaces it whole: new URL, secret, headers and format, enabled again and
    /// with its failure streak forgotten. It keeps its id, so deliveries waiting for it flow. Null when it was not
    /// registered and the partner already has <see cref="WebhookModel.MaxPerPartner"/> v2 webhooks.
    /// </summary>
    public Task<WebhookRecord?> RegisterWebhookAsync(string partnerId, WebhookRegistration registration, DateTimeOffset now, CancellationToken cancellationToken) =>
        ThenOutboxWritten(WriteAsync(async (connection, transaction) =>
        {
            // The other webhooks fill every place only while the legacy one is unregistered: a re-registration never is refused.
            if (await AtLimitAsync(connection, transaction, partnerId, "legacy = 0", cancellationToken)) return null;
            await using var command = Command(connection, transaction, $"""
                UPDATE webhooks SET webhook_url = @url, secret = @secret, previous_secret = NULL, previous_secret_until = NULL,
                    headers = @headers, payload_format = @format, updated_at = @now, disabled_at = NULL, disabled_reason = NULL,
                    failing_since = NULL, removed_at = NULL,
                    created_at = CASE WHEN removed_at IS NULL THEN created_at ELSE @now END
                WHERE partner_id = @partner AND legacy = 1
                RETURNING {WebhookColumns}
                """);
            AddParameter(command, "@partner", partnerId);
            AddParameter(command, "@url", registration.WebhookUrl);
            AddParameter(command, "@secret", registration.Secret);
            AddParameter(command, "@headers", JoinHeaders(registration.Headers));
            AddParameter(command, "@format", registration.PayloadFormat);
            AddParameter(command, "@now", ToUnixMs(now));
            return (await ReadWebhooksAsync(command, cancellationToken)).FirstOrDefault();
        }, cancellationToken));

    /// <summary>The partner's registered v1 webhook, or null.</summary>
    public Task<WebhookRecord?> GetWebhookAsync(string partnerId, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Command(connection, null, $"SELECT {WebhookColumns} FROM webhooks WHERE partner_id = @partner AND legacy = 1 AND {Registered}");
            AddParameter(command, "@partner", partnerId);
            return (await ReadWebhooksAsync(command, cancellationToken)).FirstOrDefault();
        }, cancellationToken);

    /// <summary>The id of the partner's legacy webhook, registered or not: the v1 delivery log is its log. Null for an unknown partner.</summary>
    public Task<string?> LegacyWebhookIdAsync(string partnerId, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Command(connection, null, "SELECT webhook_id FROM webhooks WHERE partner_id = @partner AND legacy = 1");
            AddParameter(command, "@partner", partnerId);
            return await command.ExecuteScalarAsync(cancellationToken) as string;
        }, cancellationToken);

    /// <summary>
    /// Points the v1 webhook at a new URL, keeping its secret. Like a registration it enables a disabled webhook again:
    /// a new URL is how a partner fixes one. Null when the partner has no webhook.
    /// </summary>
    public Task<WebhookRecord?> UpdateWebhookUrlAsync(string partnerId, string url, DateTimeOffset now, CancellationToken cancellationToken) =>
        ThenOutboxWritten(WriteAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction, $"""
                UPDATE webhooks SET webhook_url = @url, updated_at = @now, disabled_at = NULL, disabled_reason = NULL, failing_since = NULL
                WHERE partner_id = @partner AND legacy = 1 AND {Registered}
                RETURNING {WebhookColumns}
                """);
            AddParameter(command, "@partner", partnerId);
            AddParameter(command, "@url", url);
            AddParameter(command, "@now", ToUnixMs(now));
            return (await ReadWebhooksAsync(command, cancellationToken)).FirstOrDefault();
        }, cancellationToken));

    /// <summary>Unregisters the v1 webhook; its pending deliveries wait for the next registration. False when there was none.</summary>
    public Task<bool> DeleteWebhookAsync(string partnerId, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction,
                $"UPDATE webhooks SET removed_at = @now, updated_at = @now, previous_secret = NULL, previous_secret_until = NULL WHERE partner_id = @partner AND legacy = 1 AND {Registered}");
            AddParameter(command, "@partner", partnerId);
            AddParameter(command, "@now", ToUnixMs(now));
            return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, cancellationToken);

    /// <summary>Creates a v2 webhook: <see cref="WebhookWrite.LimitReached"/> at the partner's limit, <see cref="WebhookWrite.NameTaken"/> for a name in use.</summary>
    public async Task<WebhookWriteResult> CreateWebhookAsync(string partnerId, WebhookSpec spec, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            // Names are unique per partner, and every partner has a legacy webhook named "v1" (listed once registered):
            // the unique index covers the other webhooks only, so the name is refused here.
            if (spec.Name == WebhookModel.LegacyName) return new WebhookWriteResult(WebhookWrite.NameTaken);
            return await WriteAsync(async (connection, transaction) =>
            {
                if (await AtLimitAsync(connection, transaction, partnerId, Registered, cancellationToken))
                    return new WebhookWriteResult(WebhookWrite.LimitReached);
                await using var command = Command(connection, transaction, $"""
                    INSERT INTO webhooks (webhook_id, partner_id, legacy, name, description, webhook_url, secret, headers, payload_format, created_at, updated_at)
                    VALUES (@id, @partner, 0, @name, @description, @url, @secret, @headers, @format, @now, @now)
                    RETURNING {WebhookColumns}
                    """);
                AddParameter(command, "@id", Ids.NewWebhookId());
                AddParameter(command, "@partner", partnerId);
                AddParameter(command, "@name", spec.Name);
                AddParameter(command, "@description", spec.Description);
                AddParameter(command, "@url", spec.WebhookUrl);
                AddParameter(command, "@secret", spec.Secret);
                AddParameter(command, "@headers", JoinHeaders(spec.Headers));
                AddParameter(command, "@format", spec.PayloadFormat);
                AddParameter(command, "@now", ToUnixMs(now));
                return new WebhookWriteResult(WebhookWrite.Done, (await ReadWebhooksAsync(command, cancellationToken))[0]);
            }, cancellationToken);
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            return new WebhookWriteResult(WebhookWrite.NameTaken);
        }
    }

    /// <summary>The partner's registered webhooks (legacy one included), oldest first, optionally only enabled or only disabled ones.</summary>
    public Task<List<WebhookRecord>> ListWebhooksAsync(string partnerId, bool? enabled, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            var filter = enabled switch { true => " AND disabled_at IS NULL", false => " AND disabled_at IS NOT NULL", null => "" };
            await using var command = Command(connection, null,
                $"SELECT {WebhookColumns} FROM webhooks WHERE partner_id = @partner AND {Registered}{filter} ORDER BY created_at, webhook_id");
            AddParameter(command, "@partner", partnerId);
            return await ReadWebhooksAsync(command, cancellationToken);
        }, cancellationToken);

    /// <summary>One of the partner's registered webhooks by id, or null (another partner's is null too).</summary>
    public Task<WebhookRecord?> GetWebhookByIdAsync(string partnerId, string webhookId, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Command(connection, null,
                $"SELECT {WebhookColumns} FROM webhooks WHERE webhook_id = @id AND partner_id = @partner AND {Registered}");
            AddParameter(command, "@id", webhookId);
            AddParameter(command, "@partner", partnerId);
            return (await ReadWebhooksAsync(command, cancellationToken)).FirstOrDefault();
        }, cancellationToken);

    /// <summary>
    /// Applies a v2 partial update. Enabling forgets the failure streak, as a v1 re-registration does; every change moves
    /// updated_at, so late answers to attempts made before it do not count toward the new version's streak.
    /// </summary>
    public async Task<WebhookWriteResult> PatchWebhookAsync(string partnerId, string webhookId, WebhookPatch patch, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            return await ThenOutboxWritten(WriteAsync(async (connection, transaction) =>
            {
                if (await FindWritableAsync(connection, transaction, partnerId, webhookId, cancellationToken) is { } refused) return refused;
                if (patch.Name == WebhookModel.LegacyName) return new WebhookWriteResult(WebhookWrite.NameTaken); // the legacy one's, as on create
                await using var command = Command(connection, transaction, $"""
                    UPDATE webhooks SET
                        name = COALESCE(@name, name),
                        description = CASE WHEN @setDescription = 1 THEN @description ELSE description END,
                        webhook_url = COALESCE(@url, webhook_url),
                        headers = COALESCE(@headers, headers),
                        payload_format = COALESCE(@format, payload_format),
                        disabled_at = CASE WHEN @enable = 1 THEN NULL WHEN @enable = 0 THEN COALESCE(disabled_at, @now) ELSE disabled_at END,
                        disabled_reason = CASE WHEN @enable = 1 THEN NULL WHEN @enable = 0 THEN COALESCE(disabled_reason, 'disabled by PATCH /v2/webhooks') ELSE disabled_reason END,
                        failing_since = CASE WHEN @enable = 1 THEN NULL ELSE failing_since END,
                        updated_at = @now
                    WHERE webhook_id = @id
                    RETURNING {WebhookColumns}
                    """);
                AddParameter(command, "@id", webhookId);
                AddParameter(command, "@name", patch.Name);
                AddParameter(command, "@setDescription", patch.Description is null ? 0 : 1);
                AddParameter(command, "@description", patch.Description);
                AddParameter(command, "@url", patch.WebhookUrl);
                AddParameter(command, "@headers", patch.Headers is null ? null : JoinHeaders(patch.Headers));
                AddParameter(command, "@format", patch.PayloadFormat);
                AddParameter(command, "@enable", patch.Enable switch { true => 1, false => 0, null => -1 });
                AddParameter(command, "@now", ToUnixMs(now));
                return new WebhookWriteResult(WebhookWrite.Done, (await ReadWebhooksAsync(command, cancellationToken))[0]);
            }, cancellationToken));
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            return new WebhookWriteResult(WebhookWrite.NameTaken);
        }
    }

    /// <summary>
    /// Replaces a v2 webhook's secret. Until <paramref name="previousValidUntil"/> the old one signs too (it is dropped
    /// when that is not after <paramref name="now"/>); a rotation during an overlap drops the oldest secret.
    /// </summary>
    public Task<WebhookWriteResult> RotateWebhookSecretAsync(
        string partnerId, string webhookId, byte[] secret, DateTimeOffset previousValidUntil, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            if (await FindWritableAsync(connection, transaction, partnerId, webhookId, cancellationToken) is { } refused) return refused;
            var overlap = previousValidUntil > now;
            await using var command = Command(connection, transaction, $"""
                UPDATE webhooks SET previous_secret = CASE WHEN @overlap = 1 THEN secret END, previous_secret_until = @until,
                    secret = @secret, updated_at = @now
                WHERE webhook_id = @id
                RETURNING {WebhookColumns}
                """);
            AddParameter(command, "@id", webhookId);
            AddParameter(command, "@secret", secret);
            AddParameter(command, "@overlap", overlap ? 1 : 0);
            AddParameter(command, "@until", overlap ? ToUnixMs(previousValidUntil) : null);
            AddParameter(command, "@now", ToUnixMs(now));
            return new WebhookWriteResult(WebhookWrite.Done, (await ReadWebhooksAsync(command, cancellationToken))[0]);
        }, cancellationToken);

    /// <summary>
    /// Deletes a v2 webhook with its deliveries and their log. While active enrollments use it: <see cref="WebhookWrite.InUse"/>
    /// with their ids, unless <paramref name="force"/>, which pauses them (prospects kept) and returns their ids.
    /// </summary>
    public Task<WebhookWriteResult> DeleteWebhookByIdAsync(string partnerId, string webhookId, bool force, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            if (await FindWritableAsync(connection, transaction, partnerId, webhookId, cancellationToken) is { } refused) return refused;
            var active = new List<string>();
            await using (var command = Command(connection, transaction, force
                ? "UPDATE enrollments SET status = 'paused' WHERE webhook_id = @id AND status = 'active' RETURNING enrollment_id"
                : "SELECT enrollment_id FROM enrollments WHERE webhook_id = @id AND status = 'active'"))
            {
                AddParameter(command, "@id", webhookId);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken)) active.Add(reader.GetString(0));
            }
            active.Sort(StringComparer.Ordinal);
            if (!force && active.Count > 0) return new WebhookWriteResult(WebhookWrite.InUse, Enrollments: active);

            foreach (var sql in new[]
            {
                "DELETE FROM delivery_attempts WHERE delivery_pk IN (SELECT delivery_pk FROM deliveries WHERE webhook_id = @id)",
                "DELETE FROM deliveries WHERE webhook_id = @id",
                "DELETE FROM webhooks WHERE webhook_id = @id",
            })
            {
                await using var command = Command(connection, transaction, sql);
                AddParameter(command, "@id", webhookId);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            return new WebhookWriteResult(WebhookWrite.Done, Enrollments: active);
        }, cancellationToken);

    /// <summary>Null when the webhook is the partner's, registered and not the legacy one; else why it cannot be written through v2.</summary>
    private async Task<WebhookWriteResult?> FindWritableAsync(
        DbConnection connection, DbTransaction transaction, string partnerId, string webhookId, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, $"SELECT legacy FROM webhooks WHERE webhook_id = @id AND partner_id = @partner AND {Registered}");
        AddParameter(command, "@id", webhookId);
        AddParameter(command, "@partner", partnerId);
        return await command.ExecuteScalarAsync(cancellationToken) switch
        {
            null => new WebhookWriteResult(WebhookWrite.NotFound),
            var legacy when Convert.ToInt32(legacy) == 1 => new WebhookWriteResult(WebhookWrite.Legacy),
            _ => null,
        };
    }

    /// <summary>
    /// Whether the partner's webhooks that match <paramref name="which"/> already take all <see cref="WebhookModel.MaxPerPartner"/>
    /// places. Under the write lock (SQLite) or the partner's row lock (PostgreSQL), so two writes cannot both pass it.
    /// </summary>
    private async Task<bool> AtLimitAsync(DbConnection connection, DbTransaction transaction, string partnerId, string which, CancellationToken cancellationToken)
    {
        await LockPartnerAsync(connection, transaction, partnerId, cancellationToken);
        await using var count = Command(connection, transaction, $"SELECT COUNT(*) FROM webhooks WHERE partner_id = @partner AND {which}");
        AddParameter(count, "@partner", partnerId);
        return Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken)) >= WebhookModel.MaxPerPartner;
    }

    /// <summary>Serializes writes that check a per-partner count: PostgreSQL locks the partner's row; SQLite has one writer already.</summary>
    protected virtual Task LockPartnerAsync(DbConnection connection, DbTransaction transaction, string partnerId, CancellationToken cancellationToken) => Task.CompletedTask;

    private static async Task<List<WebhookRecord>> ReadWebhooksAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var webhooks = new List<WebhookRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) webhooks.Add(ReadWebhook(reader, 0));
        return webhooks;
    }

    /// <summary>A <see cref="WebhookRecord"/> from <see cref="WebhookColumns"/>, starting at column <paramref name="first"/>.</summary>
    private static WebhookRecord ReadWebhook(DbDataReader reader, int first)
    {
        DateTimeOffset? At(int i) => Time(reader, first + i);
        string? Text(int i) => reader.IsDBNull(first + i) ? null : reader.GetString(first + i);
        return new WebhookRecord(reader.GetString(first), reader.GetString(first + 1), Int(reader, first + 2) == 1,
            reader.GetString(first + 3), Text(4), reader.GetString(first + 5), (byte[])reader.GetValue(first + 6),
            reader.IsDBNull(first + 7) ? null : (byte[])reader.GetValue(first + 7), At(8),
            SplitHeaders(reader.GetString(first + 9)), reader.GetString(first + 10), At(11)!.Value, At(12)!.Value, At(13),
            Text(14), At(15), At(16));
    }

    // Header lines cannot hold a line break (the API refuses them), so one per line is an unambiguous encoding.
    private static string JoinHeaders(IReadOnlyList<string> headers) => string.Join('\n', headers);

    private static List<string> SplitHeaders(string text) => text.Length == 0 ? [] : [.. text.Split('\n')];
}
