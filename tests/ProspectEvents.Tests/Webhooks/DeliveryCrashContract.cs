using System.Text.Json;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Webhooks;

/// <summary>
/// At-least-once delivery: the real server executable is killed (SIGKILL) twice while deliveries are in flight and
/// started again; every delivery still arrives, verified, and any duplicate carries the same webhook-id. Once per backend.
/// </summary>
public abstract class DeliveryCrashContract(Backend backend)
{
    private const int Prospects = 300;

    [Fact]
    public async Task AServerKilledWhileDeliveringAndRestartedStillDeliversEverythingAtLeastOnce()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Convert.ToBase64String(new byte[32]));
        receiver.Behaviour = (_, _) => new ReceiverAnswer(200, Delay: TimeSpan.FromMilliseconds(40)); // keeps requests in flight
        var storage = await PrepareAsync(receiver);
        var expected = await DeliveryIdsAsync(storage);
        Assert.Equal(Prospects, expected.Count);

        var leasedAtKills = 0L;
        foreach (var killAt in new[] { 40, 140 })
        {
            await using var server = await StartServerAsync(storage);
            await receiver.WaitForAsync(r => r.Count >= killAt, TimeSpan.FromSeconds(60));
            await server.KillAsync(); // SIGKILL: requests in flight are never recorded
            leasedAtKills += await CountAsync(storage, $"SELECT COUNT(*) FROM deliveries WHERE status = 'pending' AND next_attempt_at > {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");
        }
        Assert.True(leasedAtKills > 0, "No kill caught a delivery claimed and not yet recorded");

        await using (var last = await StartServerAsync(storage))
        {
            // Done when the log says so: the claims the kills left behind ran out and were sent again.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (await CountAsync(storage, "SELECT COUNT(*) FROM deliveries WHERE status <> 'delivered'") > 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "Not every delivery was delivered within a minute of the last restart");
                await Task.Delay(100);
            }
            await last.KillAsync();
        }

        var requests = receiver.Requests;
        Assert.All(requests, r => Assert.True(r.AnchorVerified && r.StandardVerified));
        Assert.Equal(expected.Order(), requests.Select(r => r.WebhookId!).Distinct().Order());
        foreach (var sameId in requests.GroupBy(r => r.WebhookId))
        {
            var bodies = sameId.Select(r => Convert.ToHexString(r.Body)).Distinct();
            Assert.Single(bodies); // a duplicate is the same delivery, byte for byte
        }
        var events = requests.Select(r => JsonDocument.Parse(r.Body).RootElement).Select(b => (b.GetProperty("event_id").GetString(), b.GetProperty("enrollment_key").GetString())).Distinct();
        Assert.Equal(Prospects, events.Count());
    }

    /// <summary>A database with one partner, its webhook at <paramref name="receiver"/>, and one pending delivery per prospect.</summary>
    private async Task<StorageOptions> PrepareAsync(WebhookReceiver receiver)
    {
        var storage = await TestStorage.CreateAsync(backend);
        await using var store = Store.Create(storage);
        await store.MigrateAsync(TimeProvider.System, CancellationToken.None);
        var now = DateTimeOffset.UtcNow;
        var partner = await store.CreatePartnerAsync("crash", KeyScope.Partner, now, CancellationToken.None);
        var secret = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        await store.RegisterWebhookAsync(partner.PartnerId, new WebhookRegistration(receiver.Url, secret, [], "json"), now, CancellationToken.None);
        receiver.SetSecret(Convert.ToBase64String(secret));
        var ids = Enumerable.Range(1, Prospects).Select(Feed.Id).ToList();
        var n = 0;
        foreach (var chunk in ids.Chunk(20))
            await store.UpsertEnrollmentAsync(partner.PartnerId, new EnrollmentRequest($"crash_{n++}", EventTypes.ProspectChangedCompany, chunk, null), now, CancellationToken.None);

        var feed = Path.Combine(Path.GetTempPath(), $"delivery-crash-{Guid.NewGuid():N}.ndjson");
        await File.WriteAllTextAsync(feed, Feed.Lines([
            .. ids.Select(id => Feed.Line(id, now.AddDays(-30).ToString("O"), "Acme")),
            .. ids.Select(id => Feed.Line(id, now.AddMinutes(-1).ToString("O"), "Globex"))]));
        var (exit, _, error) = await ServerUnderTest.RunVerbAsync(["ingest", feed, .. storage.Arguments()]);
        Assert.True(exit == 0, error);
        return storage;
    }

    private static async Task<long> CountAsync(StorageOptions storage, string sql)
    {
        await using var store = Store.Create(storage);
        await using var connection = await store.OpenConnectionAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<List<string>> DeliveryIdsAsync(StorageOptions storage)
    {
        await using var store = Store.Create(storage);
        await using var connection = await store.OpenConnectionAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT delivery_id FROM deliveries";
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await reader.ReadAsync()) ids.Add(reader.GetString(0));
        return ids;
    }

    /// <summary>
    /// The real executable, serving on a free port and dispatching with few slots and a short lease (timeout 1 s,
    /// lease 2 s), so a killed process's claims fall due again quickly.
    /// </summary>
    private static Task<ServerProcess> StartServerAsync(StorageOptions storage) => ServerProcess.StartAsync(storage, new Dictionary<string, string?>
    {
        ["Webhooks:AllowPrivateNetworks"] = "true",
        ["Webhooks:Timeout"] = "00:00:01",
        ["Webhooks:Concurrency"] = "8",
        ["Roles"] = "api,dispatcher", // api only for /readyz: no scheduler or indexer beside the dispatcher
    });
}

public sealed class SqliteDeliveryCrashTests() : DeliveryCrashContract(Backend.Sqlite);

public sealed class PostgresDeliveryCrashTests() : DeliveryCrashContract(Backend.Postgres);
