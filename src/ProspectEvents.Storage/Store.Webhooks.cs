using System.Data.Common;

namespace ProspectEvents.Storage;

/// <summary>Webhook registrations: one per partner (Migrations/*/0006_webhooks.sql).</summary>
public abstract partial class Store
{
    private const string WebhookColumns =
        "partner_id, webhook_url, secret, headers, payload_format, created_at, updated_at, disabled_at, disabled_reason, failing_since";

    /// <summary>
    /// Registers the partner's webhook, or replaces it whole: new URL, secret, headers and format, enabled again and
    /// with its failure streak forgotten. <c>created_at</c> stays that of the first registration.
    /// </summary>
    public Task<WebhookRecord> RegisterWebhookAsync(string partnerId, WebhookRegistration registration, DateTimeOffset now, CancellationToken cancellationToken) =>
        ThenOutboxWritten(WriteAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction, $"""
                INSERT INTO webhooks ({WebhookColumns})
                VALUES (@partner, @url, @secret, @headers, @format, @now, @now, NULL, NULL, NULL)
                ON CONFLICT (partner_id) DO UPDATE SET webhook_url = excluded.webhook_url, secret = excluded.secret,
                    headers = excluded.headers, payload_format = excluded.payload_format, updated_at = excluded.updated_at,
                    disabled_at = NULL, disabled_reason = NULL, failing_since = NULL
                RETURNING {WebhookColumns}
                """);
            AddParameter(command, "@partner", partnerId);
            AddParameter(command, "@url", registration.WebhookUrl);
            AddParameter(command, "@secret", registration.Secret);
            AddParameter(command, "@headers", JoinHeaders(registration.Headers));
            AddParameter(command, "@format", registration.PayloadFormat);
            AddParameter(command, "@now", ToUnixMs(now));
            return (await ReadWebhooksAsync(command, cancellationToken))[0];
        }, cancellationToken));

    public Task<WebhookRecord?> GetWebhookAsync(string partnerId, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Command(connection, null, $"SELECT {WebhookColumns} FROM webhooks WHERE partner_id = @partner");
            AddParameter(command, "@partner", partnerId);
            return (await ReadWebhooksAsync(command, cancellationToken)).FirstOrDefault();
        }, cancellationToken);

    /// <summary>
    /// Points the webhook at a new URL, keeping its secret. Like a registration it enables a disabled webhook again:
    /// a new URL is how a partner fixes one. Null when the partner has no webhook.
    /// </summary>
    public Task<WebhookRecord?> UpdateWebhookUrlAsync(string partnerId, string url, DateTimeOffset now, CancellationToken cancellationToken) =>
        ThenOutboxWritten(WriteAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction, $"""
                UPDATE webhooks SET webhook_url = @url, updated_at = @now, disabled_at = NULL, disabled_reason = NULL, failing_since = NULL
                WHERE partner_id = @partner
                RETURNING {WebhookColumns}
                """);
            AddParameter(command, "@partner", partnerId);
            AddParameter(command, "@url", url);
            AddParameter(command, "@now", ToUnixMs(now));
            return (await ReadWebhooksAsync(command, cancellationToken)).FirstOrDefault();
        }, cancellationToken));

    /// <summary>Removes the webhook; the partner's pending deliveries wait for the next registration. False when there was none.</summary>
    public Task<bool> DeleteWebhookAsync(string partnerId, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction, "DELETE FROM webhooks WHERE partner_id = @partner");
            AddParameter(command, "@partner", partnerId);
            return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, cancellationToken);

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
        DateTimeOffset? Time(int i) => reader.IsDBNull(first + i) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(first + i));
        return new WebhookRecord(reader.GetString(first), reader.GetString(first + 1), (byte[])reader.GetValue(first + 2),
            SplitHeaders(reader.GetString(first + 3)), reader.GetString(first + 4), Time(5)!.Value, Time(6)!.Value, Time(7),
            reader.IsDBNull(first + 8) ? null : reader.GetString(first + 8), Time(9));
    }

    // Header lines cannot hold a line break (the API refuses them), so one per line is an unambiguous encoding.
    private static string JoinHeaders(IReadOnlyList<string> headers) => string.Join('\n', headers);

    private static List<string> SplitHeaders(string text) => text.Length == 0 ? [] : [.. text.Split('\n')];
}
