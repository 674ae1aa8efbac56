using System.Data.Common;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ProspectEvents.Server.Webhooks;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Webhooks;

/// <summary>
/// Delivery when things go wrong beside the receiver: the database refusing writes for a while, one row the database
/// will never take, a receiver that never answers. Real receivers on loopback, a real database, the server's clock
/// driven by the test. Once per backend.
/// </summary>
public abstract class DeliveryResilienceContract(Backend backend) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(40);

    private readonly List<IAsyncDisposable> _disposables = [];
    private readonly LogCapture _log = new();
    private readonly List<CapturedLog> _logged = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // Servers first (in reverse order of start), so no dispatcher sends to a receiver that is gone.
        for (var i = _disposables.Count - 1; i >= 0; i--) await _disposables[i].DisposeAsync();
    }

    private async Task<ServerUnderTest> ServerAsync(StorageOptions storage, params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?> { ["Webhooks:AllowPrivateNetworks"] = "true" };
        foreach (var (key, value) in settings) all[key] = value;
        var server = await ServerUnderTest.StartAsync(storage, all, builder => builder.Logging.AddProvider(_log));
        _disposables.Add(server);
        return server;
    }

    private async Task<WebhookReceiver> ReceiverAsync(ServerUnderTest server)
    {
        var receiver = await WebhookReceiver.StartAsync(Convert.ToBase64String(new byte[32]));
        receiver.Clock = server.Clock;
        _disposables.Insert(0, receiver); // disposed after every server
        return receiver;
    }

    private static async Task RegisterAsync(HttpClient client, string partnerId, WebhookReceiver receiver)
    {
        var webhook = await (await client.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{partnerId}}","webhook_url":"{{receiver.Url}}"}""")).ExpectAsync(200);
        receiver.SetSecret(webhook.GetProperty("webhook_secret").GetString()!);
    }

    /// <summary>Enrolls <paramref name="prospects"/> and ingests a company change for each: one pending delivery each.</summary>
    private static async Task EnrollAndMoveAsync(ServerUnderTest server, HttpClient client, string[] prospects)
    {
        await (await client.PostJsonAsync(EnrollmentsPath,
            $$"""{"enrollment_key":"movers","event_types":["prospect_changed_company"],"prospect_ids":[{{string.Join(",", prospects.Select(p => $"\"{p}\""))}}]}""")).ExpectAsync(200);
        var at = server.Clock.GetUtcNow();
        var summary = await server.IngestAsync(Feed.Lines([
            .. prospects.Select(p => Feed.Line(p, at.AddDays(-30).ToString("O"), "Acme")),
            .. prospects.Select(p => Feed.Line(p, at.AddMinutes(-1).ToString("O"), "Globex"))]));
        Assert.Equal(prospects.Length, summary.GetProperty("events").GetInt32());
    }

    private static async Task<List<JsonElement>> DeliveriesAsync(HttpClient client, string partnerId, string query = "") =>
        (await (await client.GetAsync($"/v1/webhooks/{partnerId}/deliveries{query}")).ExpectAsync(200)).GetProperty("deliveries").EnumerateArray().ToList();

    /// <summary>Reads the partner's deliveries until <paramref name="done"/> holds for them, or fails showing the last read.</summary>
    private static async Task<List<JsonElement>> WaitForDeliveriesAsync(HttpClient client, string partnerId, Func<List<JsonElement>, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var deliveries = await DeliveriesAsync(client, partnerId);
            if (done(deliveries)) return deliveries;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited in vain for {what}; last read: {string.Join(", ", deliveries)}");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits until the server logged an entry with event id <paramref name="eventId"/>; returns it.</summary>
    private async Task<CapturedLog> WaitForLogAsync(int eventId)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            _logged.AddRange(_log.Drain());
            if (_logged.FirstOrDefault(e => e.EventId.Id == eventId) is { } entry) return entry;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The server never logged event {eventId}; it logged: {string.Join("\n", _logged)}");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits until the server's dispatcher has no delivery in flight: every request it sent was answered and queued for recording.</summary>
    private static async Task WaitUntilIdleAsync(ServerUnderTest server)
    {
        var dispatcher = server.Services.GetRequiredService<DeliveryDispatcher>();
        var deadline = DateTime.UtcNow + Patience;
        while (dispatcher.InFlight > 0)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The dispatcher still has {dispatcher.InFlight} deliveries in flight");
            await Task.Delay(20);
        }
    }

    private static string Status(JsonElement delivery) => delivery.GetProperty("status").GetString()!;

    /// <summary>
    /// Takes the database's write lock on its own connection, as another process would: SQLite's one writer lock; on
    /// PostgreSQL a lock on the outbox that every write of a delivery waits for. Dispose to release it.
    /// </summary>
    private sealed class WriteLock(DbConnection connection) : IAsyncDisposable
    {
        public static async Task<WriteLock> TakeAsync(ServerUnderTest server, Backend backend)
        {
            var connection = await server.Store.OpenConnectionAsync(CancellationToken.None);
            await using var command = connection.CreateCommand();
            command.CommandText = backend == Backend.Sqlite ? "BEGIN IMMEDIATE" : "BEGIN; LOCK TABLE deliveries IN EXCLUSIVE MODE";
            await command.ExecuteNonQueryAsync();
            return new WriteLock(connection);
        }

        public async ValueTask DisposeAsync()
        {
            await using (var command = connection.CreateCommand())
            {
                command.CommandText = "ROLLBACK";
                await command.ExecuteNonQueryAsync();
            }
            await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task ADatabaseOutageWhileAttemptsAreRecordedHoldsDeliveryBackAndThenLosesNoneAndSendsNoneTwice()
    {
        var storage = await TestStorage.CreateAsync(backend);
        // A write that waits for a lock gives up after about a second on PostgreSQL; on SQLite after its busy timeout.
        storage.ConnectionString += backend == Backend.Sqlite ? ";Default Timeout=1" : ";Options=-c lock_timeout=1000";
        // A lease (twice the timeout) far longer than the outage: what was sent is recorded, never sent again.
        var server = await ServerAsync(storage, ("Webhooks:Timeout", "00:01:00"), ("Webhooks:RetrySchedule", "0s,1m"));
        var (partner, client) = await server.NewPartnerAsync();
        var receiver = await ReceiverAsync(server);
        receiver.Behaviour = (_, _) => new ReceiverAnswer(200, Delay: TimeSpan.FromMilliseconds(500)); // answers come during the outage
        await RegisterAsync(client, partner, receiver);
        var prospects = Enumerable.Range(1, 10).Select(Feed.Id).ToArray();
        await EnrollAndMoveAsync(server, client, prospects);

        await receiver.WaitForAsync(r => r.Count >= 1, Patience);
        await using (await WriteLock.TakeAsync(server, backend))
        {
            var deferred = await WaitForLogAsync(17); // recording met a transient error and backs off
            Assert.Equal(LogLevel.Warning, deferred.Level);
        }

        var deliveries = await WaitForDeliveriesAsync(client, partner, d => d.Count == 10 && d.All(x => Status(x) == "delivered"), "all 10 delivered");
        await WaitUntilIdleAsync(server);
        Assert.All(deliveries, d => Assert.Equal(1, d.GetProperty("attempts").GetInt32()));
        Assert.Equal(deliveries.Select(d => d.GetProperty("delivery_id").GetString()).Order(), receiver.Requests.Select(r => r.WebhookId).Order());
        Assert.All(receiver.Requests, r => Assert.True(r.AnchorVerified && r.StandardVerified));
        _logged.AddRange(_log.Drain());
        Assert.DoesNotContain(_logged, e => e.EventId.Id is 11 or 13 or 18); // nothing given up, nothing isolated
    }

    [Fact]
    public async Task ADeliveryWhoseAttemptTheDatabaseRefusesForGoodIsDeadLetteredAndLoggedAndTheOthersAreDelivered()
    {
        var server = await ServerAsync(await TestStorage.CreateAsync(backend), ("Webhooks:RetrySchedule", "0s,1m,1m"));
        var (partner, client) = await server.NewPartnerAsync();
        var prospects = Enumerable.Range(1, 10).Select(Feed.Id).ToArray();
        await EnrollAndMoveAsync(server, client, prospects); // no webhook yet: the deliveries wait

        var poisonPk = Convert.ToInt64(await server.SqlAsync("SELECT MIN(delivery_pk) FROM deliveries"), System.Globalization.CultureInfo.InvariantCulture);
        var poisonId = (string)(await server.SqlAsync($"SELECT delivery_id FROM deliveries WHERE delivery_pk = {poisonPk}"))!;
        // A constraint of the operator's that the attempt log of this one delivery can never meet.
        await server.SqlAsync(backend == Backend.Sqlite
            ? $"CREATE TRIGGER poison BEFORE INSERT ON delivery_attempts WHEN NEW.delivery_pk = {poisonPk} BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
            : $"""
               CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN IF NEW.delivery_pk = {poisonPk} THEN RAISE EXCEPTION 'poisoned row' USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$;
               CREATE TRIGGER poison BEFORE INSERT ON delivery_attempts FOR EACH ROW EXECUTE FUNCTION poison();
               """);
        var receiver = await ReceiverAsync(server);
        receiver.Behaviour = (request, _) => request.WebhookId == poisonId ? new ReceiverAnswer(503) : ReceiverAnswer.Ok;
        await RegisterAsync(client, partner, receiver);

        var deliveries = await WaitForDeliveriesAsync(client, partner, d => d.Count == 10 && d.All(x => Status(x) != "pending"), "all 10 finished");
        var poisoned = Assert.Single(deliveries, d => d.GetProperty("delivery_id").GetString() == poisonId);
        Assert.Equal("failed", Status(poisoned)); // dead-lettered at once, though its schedule had two more attempts
        Assert.All(deliveries.Where(d => d.GetProperty("delivery_id").GetString() != poisonId), d => Assert.Equal("delivered", Status(d)));
        var isolated = await WaitForLogAsync(18);
        Assert.Equal(LogLevel.Error, isolated.Level);
        Assert.Contains(poisonId, isolated.Message, StringComparison.Ordinal);
        Assert.Contains("poisoned row", isolated.Exception!.Message, StringComparison.Ordinal);

        // Past its lease and its next scheduled attempt: it is not sent again.
        server.Clock.Advance(TimeSpan.FromMinutes(5));
        await server.Services.GetRequiredService<DeliveryDispatcher>().NextClaimPassAsync();
        await WaitUntilIdleAsync(server);
        Assert.Equal(10, receiver.Requests.Count);
        Assert.Equal(10, receiver.Requests.Select(r => r.WebhookId).Distinct().Count());
        Assert.Equal(poisonId, Assert.Single(await DeliveriesAsync(client, partner, "?status=failed")).GetProperty("delivery_id").GetString());
    }

    [Fact]
    public async Task AReceiverThatNeverAnswersHoldsItsDeliveryOnlyForTheLeaseThenItIsSentAgainWithTheSameWebhookId()
    {
        // Lease 20 s on the server's clock, which the test moves; the HTTP timeout (10 s) runs on real time.
        var server = await ServerAsync(await TestStorage.CreateAsync(backend), ("Webhooks:Timeout", "00:00:10"), ("Webhooks:RetrySchedule", "0s,1h"));
        var (partner, client) = await server.NewPartnerAsync();
        var receiver = await ReceiverAsync(server);
        receiver.Behaviour = (_, before) => before == 0 ? new ReceiverAnswer(200, Delay: TimeSpan.FromHours(1)) : ReceiverAnswer.Ok;
        await RegisterAsync(client, partner, receiver);
        await EnrollAndMoveAsync(server, client, [Feed.Dana]);

        var first = (await receiver.WaitForAsync(r => r.Count >= 1, Patience))[0];
        var leased = Assert.Single(await DeliveriesAsync(client, partner));
        Assert.Equal(("pending", 0), (Status(leased), leased.GetProperty("attempts").GetInt32()));
        server.Clock.Advance(TimeSpan.FromSeconds(21)); // the lease runs out while the first request still hangs

        var second = (await receiver.WaitForAsync(r => r.Count >= 2, Patience))[1];
        Assert.Equal(first.WebhookId, second.WebhookId);
        Assert.True(second.AnchorVerified && second.StandardVerified);
        // The first attempt gives up at its timeout and is recorded late; it cannot undo the delivery.
        var delivered = Assert.Single(await WaitForDeliveriesAsync(client, partner,
            d => d.Count == 1 && d[0].GetProperty("attempts").GetInt32() == 2, "both attempts recorded"));
        Assert.Equal("delivered", Status(delivered));
        Assert.Equal(first.WebhookId, delivered.GetProperty("delivery_id").GetString());
        await WaitUntilIdleAsync(server);
        Assert.Equal(2, receiver.Requests.Count);
    }
}

public sealed class SqliteDeliveryResilienceTests() : DeliveryResilienceContract(Backend.Sqlite);

public sealed class PostgresDeliveryResilienceTests() : DeliveryResilienceContract(Backend.Postgres);
