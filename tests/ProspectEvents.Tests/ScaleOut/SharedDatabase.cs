using System.Globalization;
using System.Text;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.ScaleOut;

/// <summary>
/// A fresh PostgreSQL database for several <see cref="ServerProcess"/>es: migrated, with an admin key and one partner
/// (made here, so no server's first start has to print a key), and the SQL the tests read the outcome with.
/// </summary>
public sealed class SharedDatabase
{
    /// <summary>Loopback receivers allowed, no rate limit in the way of a test's many requests.</summary>
    public static readonly IReadOnlyDictionary<string, string?> BaseSettings = new Dictionary<string, string?>
    {
        ["Webhooks:AllowPrivateNetworks"] = "true",
        ["RateLimiting:PermitsPerWindow"] = "100000",
    };

    private SharedDatabase(StorageOptions storage, string adminKey, string partnerId, string partnerKey)
    {
        Storage = storage;
        AdminKey = adminKey;
        PartnerId = partnerId;
        PartnerKey = partnerKey;
    }

    public StorageOptions Storage { get; }

    public string AdminKey { get; }

    public string PartnerId { get; }

    public string PartnerKey { get; }

    public static async Task<SharedDatabase> CreateAsync()
    {
        var storage = await TestStorage.CreateAsync(Backend.Postgres);
        await using var store = Store.Create(storage);
        await store.MigrateAsync(TimeProvider.System, CancellationToken.None);
        var admin = await store.CreatePartnerAsync("default", KeyScope.Admin, DateTimeOffset.UtcNow, CancellationToken.None);
        var partner = await store.CreatePartnerAsync("acme", KeyScope.Partner, DateTimeOffset.UtcNow, CancellationToken.None);
        return new SharedDatabase(storage, admin.Secret, partner.PartnerId, partner.Secret);
    }

    /// <summary>Settings for the servers: <see cref="BaseSettings"/> with <paramref name="more"/> on top.</summary>
    public static Dictionary<string, string?> Settings(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>(BaseSettings);
        foreach (var (key, value) in more) settings[key] = value;
        return settings;
    }

    /// <summary>Registers the partner's v1 webhook at <paramref name="receiver"/> through <paramref name="server"/>, and tells the receiver its secret.</summary>
    public async Task RegisterWebhookAsync(ServerProcess server, WebhookReceiver receiver)
    {
        using var client = server.Client(PartnerKey);
        var registered = await (await client.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{PartnerId}}","webhook_url":"{{receiver.Url}}"}""")).ExpectAsync(200);
        receiver.SetSecret(registered.GetProperty("webhook_secret").GetString()!);
    }

    /// <summary>Enrolls <paramref name="ids"/> 20 a request under keys <c>{prefix}_{n}</c>, the requests spread over <paramref name="servers"/> in turn.</summary>
    public async Task EnrollAsync(IReadOnlyList<ServerProcess> servers, IEnumerable<string> ids, string eventTypes, string prefix = "scale")
    {
        var requests = ids.Chunk(20).Select(async (chunk, n) =>
        {
            using var client = servers[n % servers.Count].Client(PartnerKey);
            var body = $$"""{"enrollment_key":"{{prefix}}_{{n}}","event_types":[{{eventTypes}}],"prospect_ids":[{{string.Join(',', chunk.Select(id => $"\"{id}\""))}}]}""";
            await (await client.PostJsonAsync(HttpJson.EnrollmentsPath, body)).ExpectAsync(200);
        });
        await Task.WhenAll(requests);
    }

    /// <summary>Posts NDJSON lines to <paramref name="server"/>'s ingest endpoint with the admin key; fails unless every line was taken.</summary>
    public async Task IngestAsync(ServerProcess server, IReadOnlyCollection<string> lines)
    {
        using var client = server.Client(AdminKey);
        var response = await client.PostAsync("/v1/admin/observations", new StringContent(string.Join('\n', lines) + "\n", Encoding.UTF8, "application/x-ndjson"));
        var summary = await response.ExpectAsync(200);
        Assert.Equal(0, summary.GetProperty("rejected").GetInt32());
    }

    public async Task<long> CountAsync(string sql) => Convert.ToInt64((await RowsAsync(sql)).Single()[0], CultureInfo.InvariantCulture);

    /// <summary>Every row <paramref name="sql"/> returns, behind the servers' backs.</summary>
    public async Task<List<object[]>> RowsAsync(string sql)
    {
        await using var store = Store.Create(Storage);
        await using var connection = await store.OpenConnectionAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object[]>();
        while (await reader.ReadAsync())
        {
            var row = new object[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>The stored events as text, without when they were detected (which differs from run to run): id, name, time, prospect, data.</summary>
    public async Task<List<string>> EventsAsync() =>
        (await RowsAsync("SELECT event_id, event_name, event_time, encode(prospect_id, 'hex'), data FROM events ORDER BY event_id"))
            .Select(row => string.Join(" | ", row.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)))).ToList();

    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> and the last state after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<Task<string>> what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Waited {timeout.TotalSeconds} s in vain: {await what()}");
            await Task.Delay(200);
        }
    }

    /// <summary>Waits until every delivery is delivered; fails naming the ones that are not.</summary>
    public Task WaitForEveryDeliveryAsync(TimeSpan timeout) =>
        WaitUntilAsync(async () => await CountAsync("SELECT COUNT(*) FROM deliveries WHERE status <> 'delivered'") == 0, timeout,
            async () => string.Join("; ", (await RowsAsync("SELECT status, COUNT(*) FROM deliveries GROUP BY status")).Select(r => $"{r[0]}: {r[1]}")));
}
