using System.Data.Common;
using System.Text.Json;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.V2;

/// <summary>
/// A database made before webhooks became resources (schema up to 0009) is upgraded on start: each partner's webhook
/// becomes its legacy webhook with the same secret, and the deliveries waiting for it are sent, signed with that secret.
/// Once per backend.
/// </summary>
public abstract class WebhookMigrationContract(Backend backend) : IAsyncLifetime
{
    private const long Day = 86_400_000;
    private static readonly long Before = new DateTimeOffset(2026, 10, 30, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private static readonly byte[] OldSecret = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    private WebhookReceiver _receiver = null!;
    private ServerUnderTest? _server;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync(Convert.ToBase64String(OldSecret));
        // The server's clock stands still at its start (ServerUnderTest), and the waiting delivery goes out at once.
        _receiver.Clock = new ManualClock(ServerUnderTest.ClockStart);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    /// <summary>A database at schema 0009 holding a partner with a webhook, an enrollment, an event and its pending delivery, and a partner without a webhook.</summary>
    private async Task<StorageOptions> OldDatabaseAsync()
    {
        var storage = await TestStorage.CreateAsync(backend);
        if (backend == Backend.Sqlite) Directory.CreateDirectory(Path.GetDirectoryName(storage.ConnectionString["Data Source=".Length..])!);
        var store = Store.Create(storage);
        await using var connection = await store.OpenConnectionAsync(CancellationToken.None);
        await ExecuteAsync(connection, "CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
        foreach (var migration in store.Migrations().Where(m => m.Version < 10))
        {
            await ExecuteAsync(connection, migration.Sql);
            await ExecuteAsync(connection, $"INSERT INTO schema_migrations VALUES ({migration.Version}, '{migration.Name}', {Before})");
        }
        var prospect = Convert.FromHexString(Feed.Dana);
        await ExecuteAsync(connection, $"INSERT INTO partners VALUES ('pa_withwebhook', 'old', {Before}), ('pa_nowebhook', 'older', {Before})");
        await ExecuteAsync(connection, "INSERT INTO webhooks (partner_id, webhook_url, secret, headers, payload_format, created_at, updated_at) " +
            $"VALUES ('pa_withwebhook', '{_receiver.Url}', @secret, 'X-Team: growth', 'json', {Before - Day}, {Before})", ("@secret", OldSecret));
        await ExecuteAsync(connection, "INSERT INTO enrollments (enrollment_id, partner_id, enrollment_key, event_types, created_at, updated_at) " +
            $"VALUES ('en_0123456789abcdef', 'pa_withwebhook', 'movers', 2, {Before}, {Before})");
        await ExecuteAsync(connection, $"INSERT INTO enrollment_prospects SELECT enrollment_pk, @p, {Before}, NULL FROM enrollments", ("@p", prospect));
        await ExecuteAsync(connection, "INSERT INTO events (event_id, event_name, prospect_id, event_time, observed_at, detected_at, data) " +
            $$"""VALUES ('0123456789abcdef0123456789abcdef', 'prospect_changed_company', @p, {{Before}}, {{Before}}, {{Before}}, '{"current_company_name":"Globex"}')""",
            ("@p", prospect));
        await ExecuteAsync(connection, "INSERT INTO deliveries (delivery_id, event_id, enrollment_pk, partner_id, enrollment_key, status, created_at, next_attempt_at) " +
            $"SELECT 'msg_000000000000000000000001', '0123456789abcdef0123456789abcdef', enrollment_pk, 'pa_withwebhook', 'movers', 'pending', {Before}, {Before} FROM enrollments");
        return storage;
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        await command.ExecuteNonQueryAsync();
    }

    private async Task<HttpClient> ClientOfAsync(string partnerId) =>
        _server!.Client((await _server.Store.CreateKeyAsync(partnerId, KeyScope.Partner, _server.Clock.GetUtcNow(), CancellationToken.None))!.Secret);

    [Fact]
    public async Task APartnersWebhookBecomesItsLegacyWebhookWithItsSecretAndItsWaitingDeliveryIsSent()
    {
        _server = await ServerUnderTest.StartAsync(await OldDatabaseAsync(), new Dictionary<string, string?> { ["Webhooks:AllowPrivateNetworks"] = "true" });

        var request = (await _receiver.WaitForAsync(r => r.Count >= 1, TimeSpan.FromSeconds(20)))[0];
        Assert.True(request.AnchorVerified && request.StandardVerified, "the waiting delivery was not signed with the old secret");
        Assert.Equal("msg_000000000000000000000001", request.WebhookId);
        Assert.Equal("growth", request.Headers["X-Team"]);
        Assert.Equal(["event_id", "event_name", "entity_id", "entity_type", "partner_id", "enrollment_key", "event_time", "data"],
            JsonDocument.Parse(request.Body).RootElement.EnumerateObject().Select(p => p.Name));

        var client = await ClientOfAsync("pa_withwebhook");
        var v1 = await (await client.GetAsync("/v1/webhooks/pa_withwebhook")).ExpectAsync(200);
        Assert.Equal(Server.Webhooks.WebhookSecret.ToAnchorText(OldSecret), v1.GetProperty("webhook_secret").GetString());
        var listed = (await (await client.GetAsync("/v2/webhooks")).ExpectAsync(200)).GetProperty("webhooks");
        var legacy = Assert.Single(listed.EnumerateArray());
        Assert.True(legacy.GetProperty("legacy").GetBoolean());
        Assert.Equal(_receiver.Url, legacy.GetProperty("webhook_url").GetString());
        var enrollment = Assert.Single((await (await client.GetAsync("/v2/prospects/events/enrollments")).ExpectAsync(200)).GetProperty("enrollments").EnumerateArray());
        Assert.Equal(legacy.GetProperty("webhook_id").GetString(), enrollment.GetProperty("webhook_id").GetString());
        Assert.Equal("active", enrollment.GetProperty("status").GetString());
        var delivery = Assert.Single((await (await client.GetAsync("/v1/webhooks/pa_withwebhook/deliveries")).ExpectAsync(200)).GetProperty("deliveries").EnumerateArray());
        Assert.Equal("msg_000000000000000000000001", delivery.GetProperty("delivery_id").GetString());
    }

    [Fact]
    public async Task APartnerWithoutAWebhookHasNoneInEitherVersionAndCanRegisterOne()
    {
        _server = await ServerUnderTest.StartAsync(await OldDatabaseAsync(), new Dictionary<string, string?> { ["Webhooks:AllowPrivateNetworks"] = "true" });
        var client = await ClientOfAsync("pa_nowebhook");

        await (await client.GetAsync("/v1/webhooks/pa_nowebhook")).ExpectAsync(404);
        Assert.Equal(0, (await (await client.GetAsync("/v2/webhooks")).ExpectAsync(200)).GetProperty("webhooks").GetArrayLength());
        await (await client.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"pa_nowebhook","webhook_url":"{{_receiver.Url}}"}""")).ExpectAsync(200);
        Assert.True(Assert.Single((await (await client.GetAsync("/v2/webhooks")).ExpectAsync(200)).GetProperty("webhooks").EnumerateArray())
            .GetProperty("legacy").GetBoolean());
    }
}

public sealed class SqliteWebhookMigrationTests() : WebhookMigrationContract(Backend.Sqlite);

public sealed class PostgresWebhookMigrationTests() : WebhookMigrationContract(Backend.Postgres);
