using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ProspectEvents.Server.Webhooks;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Webhooks;

/// <summary>
/// Events reach partner webhooks: real receivers on loopback verify both signature schemes with their own code.
/// The server's clock is the test's (the receivers check timestamps against it); retries fall due when the test
/// moves it. Once per backend.
/// </summary>
public abstract class WebhookDeliveryContract(Backend backend) : IAsyncLifetime
{
    private ServerUnderTest _server = null!;
    private readonly List<WebhookReceiver> _receivers = [];

    public async Task InitializeAsync() => _server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?>
    {
        ["Webhooks:AllowPrivateNetworks"] = "true",
        ["Webhooks:RetrySchedule"] = "0s,1m,1m,1m",
        ["Webhooks:Timeout"] = "00:00:01",
    });

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        foreach (var receiver in _receivers) await receiver.DisposeAsync();
    }

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private async Task<WebhookReceiver> ReceiverAsync()
    {
        var receiver = await WebhookReceiver.StartAsync(Convert.ToBase64String(new byte[32]));
        receiver.Clock = _server.Clock;
        _receivers.Add(receiver);
        return receiver;
    }

    /// <summary>Registers <paramref name="receiver"/> as the partner's webhook and gives it the secret that came back.</summary>
    private static async Task<JsonElement> RegisterAsync(HttpClient client, string partnerId, WebhookReceiver receiver, string extra = "")
    {
        var webhook = await (await client.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{partnerId}}","webhook_url":"{{receiver.Url}}"{{extra}}}""")).ExpectAsync(200);
        receiver.SetSecret(webhook.GetProperty("webhook_secret").GetString()!);
        return webhook;
    }

    private static async Task EnrollAsync(HttpClient client, string key, params string[] prospects) =>
        await (await client.PostJsonAsync(EnrollmentsPath,
            $$"""{"enrollment_key":"{{key}}","event_types":["prospect_changed_company","prospect_changed_role"],"prospect_ids":[{{string.Join(",", prospects.Select(p => $"\"{p}\""))}}]}""")).ExpectAsync(200);

    /// <summary>Ingests a baseline and a move to <paramref name="company"/> for each prospect: one company change each.</summary>
    private async Task MoveAsync(string company, params string[] prospects)
    {
        var at = _server.Clock.GetUtcNow();
        var lines = prospects.SelectMany(p => new[]
        {
            Feed.Line(p, at.AddDays(-30).ToString("O"), "Acme"), Feed.Line(p, at.AddMinutes(-1).ToString("O"), company),
        });
        Assert.Equal(prospects.Length, (await _server.IngestAsync(Feed.Lines([.. lines]))).GetProperty("events").GetInt32());
    }

    private async Task<JsonElement> DeliveriesAsync(HttpClient client, string partnerId, string query = "") =>
        (await (await client.GetAsync($"/v1/webhooks/{partnerId}/deliveries{query}")).ExpectAsync(200)).GetProperty("deliveries");

    private async Task<JsonElement> WaitForDeliveryAsync(HttpClient client, string partnerId, Func<JsonElement, bool> condition) =>
        (await EventuallyAsync(() => DeliveriesAsync(client, partnerId), d => d.EnumerateArray().Any(condition), "a delivery to match")).EnumerateArray().First(condition);

    private Task WaitForAllAsync(HttpClient client, string partnerId, Func<JsonElement, bool> condition, int count) =>
        EventuallyAsync(() => DeliveriesAsync(client, partnerId), d => d.GetArrayLength() == count && d.EnumerateArray().All(condition), $"all {count} deliveries to match");

    private static Task<JsonElement> WaitForWebhookAsync(HttpClient client, string partnerId, Func<JsonElement, bool> condition) =>
        EventuallyAsync(async () => await (await client.GetAsync($"/v1/webhooks/{partnerId}")).ExpectAsync(200), condition, "the webhook to match");

    private static async Task<string?> WebhookStatusAsync(HttpClient client, string partnerId) =>
        (await (await client.GetAsync($"/v1/webhooks/{partnerId}")).ExpectAsync(200)).GetProperty("status").GetString();

    /// <summary>A partner whose receiver answers 500 to everything, and one delivery whose first attempt has failed.</summary>
    private async Task<(string PartnerId, HttpClient Client)> FirstAttemptFailedAsync()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        var receiver = await ReceiverAsync();
        receiver.Behaviour = (_, _) => new ReceiverAnswer(500);
        await RegisterAsync(client, partner, receiver);
        await EnrollAsync(client, "movers", Feed.Dana);
        await MoveAsync("Globex", Feed.Dana);
        await WaitForDeliveryAsync(client, partner, d => d.GetProperty("attempts").GetInt32() == 1);
        return (partner, client);
    }

    /// <summary>Reads until <paramref name="done"/> holds (the dispatcher works in the background), or fails showing the last read.</summary>
    private static async Task<JsonElement> EventuallyAsync(Func<Task<JsonElement>> read, Func<JsonElement, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited in vain for {what}; last read: {value}");
            await Task.Delay(50);
        }
    }

    private static DeliveryDispatcher Dispatcher(ServerUnderTest server) => server.Services.GetRequiredService<DeliveryDispatcher>();

    /// <summary>
    /// Waits until no dispatcher of <paramref name="servers"/> has a delivery in flight: every request sent so far has
    /// arrived and been answered. With nothing pending left, nothing more can be sent.
    /// </summary>
    private static async Task WaitUntilIdleAsync(params ServerUnderTest[] servers)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (servers.Any(s => Dispatcher(s).InFlight > 0))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("A dispatcher still has deliveries in flight");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task AnEventOfAnEnrolledProspectArrivesSignedBothWaysWithTheDocumentedBody()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        var receiver = await ReceiverAsync();
        await RegisterAsync(client, partner, receiver);
        await EnrollAsync(client, "movers", Feed.Dana);

        await MoveAsync("Globex", Feed.Dana);

        var request = (await receiver.WaitForAsync(r => r.Count >= 1, Patience))[0];
        Assert.True(request.AnchorVerified, "X-Signature did not verify");
        Assert.True(request.StandardVerified, "webhook-signature did not verify");
        var body = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal(["event_id", "event_name", "entity_id", "entity_type", "partner_id", "enrollment_key", "event_time", "data"],
            body.EnumerateObject().Select(p => p.Name));
        Assert.Equal("prospect_changed_company", body.GetProperty("event_name").GetString());
        Assert.Equal(Feed.Dana, body.GetProperty("entity_id").GetString());
        Assert.Equal("prospect", body.GetProperty("entity_type").GetString());
        Assert.Equal(partner, body.GetProperty("partner_id").GetString());
        Assert.Equal("movers", body.GetProperty("enrollment_key").GetString());
        Assert.Equal("Globex", body.GetProperty("data").GetProperty("current_company_name").GetString());

        var delivered = await WaitForDeliveryAsync(client, partner, d => d.GetProperty("status").GetString() == "delivered");
        Assert.Equal(request.WebhookId, delivered.GetProperty("delivery_id").GetString());
        Assert.Equal(body.GetProperty("event_id").GetString(), delivered.GetProperty("event_id").GetString());
        Assert.Equal(200, delivered.GetProperty("last_attempt").GetProperty("status_code").GetInt32());
    }

    [Fact]
    public async Task CustomHeadersAreSentAndStringifiedJsonArrivesAsAJsonString()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        var receiver = await ReceiverAsync();
        await RegisterAsync(client, partner, receiver, ""","headers":["Authorization: Bearer t0ken","X-Team: growth"],"payload_format":"stringified_json" """);
        await EnrollAsync(client, "movers", Feed.Dana);

        await MoveAsync("Globex", Feed.Dana);

        var request = (await receiver.WaitForAsync(r => r.Count >= 1, Patience))[0];
        Assert.True(request.AnchorVerified && request.StandardVerified);
        Assert.Equal("Bearer t0ken", request.Headers["Authorization"]);
        Assert.Equal("growth", request.Headers["X-Team"]);
        var outer = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal(JsonValueKind.String, outer.ValueKind);
        Assert.Equal(Feed.Dana, JsonDocument.Parse(outer.GetString()!).RootElement.GetProperty("entity_id").GetString());
    }

    [Theory]
    [InlineData("500")]
    [InlineData("timeout")]
    [InlineData("reset")]
    [InlineData("429")]
    public async Task AReceiverThatFailsTwiceGetsTheDeliveryOnTheThirdAttemptWithTheSameWebhookId(string failure)
    {
        var (partner, client) = await _server.NewPartnerAsync();
        var receiver = await ReceiverAsync();
        receiver.Behaviour = (_, before) => before >= 2 ? ReceiverAnswer.Ok : failure switch
        {
            "timeout" => new ReceiverAnswer(200, Delay: TimeSpan.FromSeconds(3)),
            "reset" => new ReceiverAnswer(200, Abort: true),
            "429" => new ReceiverAnswer(429, RetryAfter: "120"),
            _ => new ReceiverAnswer(500, Body: "database down"),
        };
        await RegisterAsync(client, partner, receiver);
        await EnrollAsync(client, "movers", Feed.Dana);
        await MoveAsync("Globex", Feed.Dana);

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var failed = await WaitForDeliveryAsync(client, partner, d => d.GetProperty("attempts").GetInt32() == attempt);
            Assert.Equal("pending", failed.GetProperty("status").GetString());
            var last = failed.GetProperty("last_attempt");
            var wait = failed.GetProperty("next_attempt_at").GetDateTimeOffset() - last.GetProperty("attempted_at").GetDateTimeOffset();
            if (failure == "429") Assert.True(wait >= TimeSpan.FromSeconds(120), $"Retry-After 120 was not honoured: next attempt after {wait}");
            else Assert.InRange(wait, TimeSpan.FromSeconds(47), TimeSpan.FromSeconds(73)); // 1 min ± 20 % jitter
            if (failure == "500") Assert.Equal("database down", last.GetProperty("response").GetString());
            if (failure is "timeout" or "reset") Assert.NotNull(last.GetProperty("error").GetString());
            _server.Clock.Advance(TimeSpan.FromMinutes(3));
        }

        var delivered = await WaitForDeliveryAsync(client, partner, d => d.GetProperty("status").GetString() == "delivered");
        Assert.Equal(3, delivered.GetProperty("attempts").GetInt32());
        var requests = await receiver.WaitForAsync(r => r.Count >= 3, Patience);
        Assert.Equal(3, requests.Count);
        Assert.All(requests, r => Assert.Equal(delivered.GetProperty("delivery_id").GetString(), r.WebhookId));
        Assert.All(requests, r => Assert.True(r.AnchorVerified && r.StandardVerified));
    }

    [Fact]
    public async Task AfterTheLastAttemptTheDeliveryIsFailedListedAndAReplayDeliversIt()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        var receiver = await ReceiverAsync();
        var broken = true;
        receiver.Behaviour = (_, _) => broken ? new ReceiverAnswer(503) : ReceiverAnswer.Ok;
        await RegisterAsync(client, partner, receiver);
        await EnrollAsync(client, "movers", Feed.Dana);
        await MoveAsync("Globex", Feed.Dana);

        for (var attempt = 1; attempt < 4; attempt++)
        {
            await WaitForDeliveryAsync(client, partner, d => d.GetProperty("attempts").GetInt32() == attempt);
            _server.Clock.Advance(TimeSpan.FromMinutes(2));
        }
        var failed = await WaitForDeliveryAsync(client, partner, d => d.GetProperty("status").GetString() == "failed");
        Assert.Equal(4, failed.GetProperty("attempts").GetInt32()); // the schedule has four steps
        Assert.True(failed.GetProperty("next_attempt_at").ValueKind == JsonValueKind.Null);
        var listed = await DeliveriesAsync(client, partner, "?status=failed");
        Assert.Equal(failed.GetProperty("delivery_id").GetString(), Assert.Single(listed.EnumerateArray()).GetProperty("delivery_id").GetString());
        Assert.Empty((await DeliveriesAsync(client, partner, "?status=pending")).EnumerateArray());
        var id = failed.GetProperty("delivery_id").GetString();
        var detail = await (await client.GetAsync($"/v1/webhooks/{partner}/deliveries/{id}")).ExpectAsync(200);
        Assert.Equal([503, 503, 503, 503], detail.GetProperty("delivery").GetProperty("attempt_log").EnumerateArray().Select(a => a.GetProperty("status_code").GetInt32()));

        broken = false;
        var replayed = await (await client.PostAsync($"/v1/webhooks/{partner}/deliveries/{id}/retry", null)).ExpectAsync(200);
        // The answer is the delivery as it is when read back: the woken dispatcher may have sent it already.
        Assert.Contains(replayed.GetProperty("delivery").GetProperty("status").GetString(), new[] { "pending", "delivered" });
        var delivered = await WaitForDeliveryAsync(client, partner, d => d.GetProperty("status").GetString() == "delivered");
        Assert.Equal(5, delivered.GetProperty("attempts").GetInt32());
        Assert.All(receiver.Requests, r => Assert.Equal(id, r.WebhookId));
        await (await client.PostAsync($"/v1/webhooks/{partner}/deliveries/msg_unknown/retry", null)).ExpectAsync(404);
    }

    [Fact]
    public async Task RecoverReplaysTheDeliveriesThatFailedSinceAGivenTime()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        var receiver = await ReceiverAsync();
        var broken = true;
        receiver.Behaviour = (_, _) => broken ? new ReceiverAnswer(500) : ReceiverAnswer.Ok;
        await RegisterAsync(client, partner, receiver);
        await EnrollAsync(client, "movers", Feed.Dana, Feed.Eli);
        var before = _server.Clock.GetUtcNow();
        await MoveAsync("Globex", Feed.Dana, Feed.Eli);
        for (var attempt = 1; attempt < 4; attempt++)
        {
            await WaitForAllAsync(client, partner, d => d.GetProperty("attempts").GetInt32() == attempt, 2);
            _server.Clock.Advance(TimeSpan.FromMinutes(2));
        }
        await WaitForAllAsync(client, partner, d => d.GetProperty("status").GetString() == "failed", 2);

        broken = false;
        var later = await (await client.PostJsonAsync($"/v1/webhooks/{partner}/recover", $$"""{"since":"{{_server.Clock.GetUtcNow().AddMinutes(1):O}}"}""")).ExpectAsync(200);
        Assert.Equal(0, later.GetProperty("recovered").GetInt32());
        var recovered = await (await client.PostJsonAsync($"/v1/webhooks/{partner}/recover", $$"""{"since":"{{before:O}}"}""")).ExpectAsync(200);
        Assert.Equal(2, recovered.GetProperty("recovered").GetInt32());
        await WaitForAllAsync(client, partner, d => d.GetProperty("status").GetString() == "delivered", 2);
        await (await client.PostJsonAsync($"/v1/webhooks/{partner}/recover", """{"since":"yesterday"}""")).ExpectAsync(422);
        var notText = await (await client.PostJsonAsync($"/v1/webhooks/{partner}/recover", """{"since":5}""")).ExpectAsync(422);
        Assert.Equal("string_type", Assert.Single(notText.GetProperty("detail").EnumerateArray()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task A410DisablesTheWebhookAndRegisteringAgainEnablesItAndSendsWhatWaited()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        var receiver = await ReceiverAsync();
        var gone = true;
        receiver.Behaviour = (_, _) => gone ? new ReceiverAnswer(410) : ReceiverAnswer.Ok;
        await RegisterAsync(client, partner, receiver);
        await EnrollAsync(client, "movers", Feed.Dana, Feed.Eli);
        await MoveAsync("Globex", Feed.Dana);
        await receiver.WaitForAsync(r => r.Count == 1, Patience);

        var webhook = await WaitForWebhookAsync(client, partner, w => w.GetProperty("status").GetString() == "disabled");
        Assert.Contains("410", webhook.GetProperty("disabled_reason").GetString());
        await MoveAsync("Initech", Feed.Eli);
        _server.Clock.Advance(TimeSpan.FromMinutes(5));
        await Dispatcher(_server).NextClaimPassAsync(); // looked at the outbox since both were due
        await WaitUntilIdleAsync(_server);
        Assert.Single(receiver.Requests); // disabled: nothing more is sent
        Assert.Equal(2, (await DeliveriesAsync(client, partner, "?status=pending")).GetArrayLength());

        gone = false;
        await RegisterAsync(client, partner, receiver);
        await WaitForAllAsync(client, partner, d => d.GetProperty("status").GetString() == "delivered", 2);
        Assert.Equal("enabled", await WebhookStatusAsync(client, partner));
    }

    [Fact]
    public async Task DeliveriesOfAPartnerWithoutAWebhookWaitAndAreSentOnceOneIsRegistered()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        await EnrollAsync(client, "movers", Feed.Dana);
        await MoveAsync("Globex", Feed.Dana);
        await Dispatcher(_server).NextClaimPassAsync(); // looked at the outbox since the delivery was due
        var waiting = Assert.Single((await DeliveriesAsync(client, partner)).EnumerateArray());
        Assert.Equal("pending", waiting.GetProperty("status").GetString());
        Assert.Equal(0, waiting.GetProperty("attempts").GetInt32());

        var receiver = await ReceiverAsync();
        await RegisterAsync(client, partner, receiver);

        var request = (await receiver.WaitForAsync(r => r.Count == 1, Patience))[0];
        Assert.Equal(waiting.GetProperty("delivery_id").GetString(), request.WebhookId);
        Assert.True(request.AnchorVerified && request.StandardVerified);
    }

    [Fact]
    public async Task TwoPartnersEnrolledForOneProspectEachGetTheirOwnDeliveryAndNeverTheOthers()
    {
        var (alice, aliceClient) = await _server.NewPartnerAsync("alice");
        var (bob, bobClient) = await _server.NewPartnerAsync("bob");
        var aliceReceiver = await ReceiverAsync();
        var bobReceiver = await ReceiverAsync();
        await RegisterAsync(aliceClient, alice, aliceReceiver);
        await RegisterAsync(bobClient, bob, bobReceiver);
        await EnrollAsync(aliceClient, "alice_watch", Feed.Dana);
        await EnrollAsync(bobClient, "bob_watch", Feed.Dana, Feed.Eli);

        await MoveAsync("Globex", Feed.Dana, Feed.Eli);

        var toAlice = await aliceReceiver.WaitForAsync(r => r.Count >= 1, Patience);
        var toBob = await bobReceiver.WaitForAsync(r => r.Count >= 2, Patience);
        await WaitForAllAsync(aliceClient, alice, d => d.GetProperty("status").GetString() == "delivered", 1);
        await WaitForAllAsync(bobClient, bob, d => d.GetProperty("status").GetString() == "delivered", 2);
        await WaitUntilIdleAsync(_server);
        Assert.Single(aliceReceiver.Requests);
        Assert.Equal(2, bobReceiver.Requests.Count);
        Assert.All(aliceReceiver.Requests, r => Assert.True(r.AnchorVerified && r.StandardVerified)); // signed with alice's secret
        Assert.All(bobReceiver.Requests, r => Assert.True(r.AnchorVerified && r.StandardVerified));
        var aliceBody = JsonDocument.Parse(toAlice[0].Body).RootElement;
        Assert.Equal((alice, "alice_watch", Feed.Dana), (aliceBody.GetProperty("partner_id").GetString(), aliceBody.GetProperty("enrollment_key").GetString(), aliceBody.GetProperty("entity_id").GetString()));
        Assert.All(bobReceiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement), b =>
            Assert.Equal((bob, "bob_watch"), (b.GetProperty("partner_id").GetString(), b.GetProperty("enrollment_key").GetString())));
        await (await aliceClient.GetAsync($"/v1/webhooks/{bob}/deliveries")).ExpectAsync(403);
    }

    [Fact]
    public async Task StatsShowEachPartnersPendingAndFailedDeliveriesAndTheAgeOfTheOldestDue()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        await EnrollAsync(client, "movers", Feed.Dana, Feed.Eli);
        await MoveAsync("Globex", Feed.Dana, Feed.Eli);
        _server.Clock.Advance(TimeSpan.FromSeconds(90));

        using var admin = _server.Client(_server.AdminKey);
        var stats = await (await admin.GetAsync("/v1/admin/stats")).ExpectAsync(200);

        Assert.Equal(2, stats.GetProperty("pending_deliveries").GetInt64());
        Assert.Equal(0, stats.GetProperty("failed_deliveries").GetInt64());
        var backlog = Assert.Single(stats.GetProperty("deliveries").EnumerateArray());
        Assert.Equal(partner, backlog.GetProperty("partner_id").GetString());
        Assert.Equal("none", backlog.GetProperty("webhook").GetString());
        Assert.Equal(2, backlog.GetProperty("pending").GetInt64());
        Assert.InRange(backlog.GetProperty("oldest_due_age_seconds").GetDouble(), 90, 91);
    }

    [Fact]
    public async Task ARefusedConnectionIsRetriedAndTheDeliveryArrivesOnceTheReceiverListens()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        var receiver = await ReceiverAsync();
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // nothing listens there now
        var webhook = await (await client.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{partner}}","webhook_url":"http://127.0.0.1:{{port}}/hooks"}""")).ExpectAsync(200);
        receiver.SetSecret(webhook.GetProperty("webhook_secret").GetString()!);
        await EnrollAsync(client, "movers", Feed.Dana);
        await MoveAsync("Globex", Feed.Dana);

        var refused = await WaitForDeliveryAsync(client, partner, d => d.GetProperty("attempts").GetInt32() == 1);
        Assert.Equal(JsonValueKind.Null, refused.GetProperty("last_attempt").GetProperty("status_code").ValueKind);
        Assert.Contains("refused", refused.GetProperty("last_attempt").GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);
        await (await client.SendJsonAsync(HttpMethod.Put, $"/v1/webhooks/{partner}", $$"""{"webhook_url":"{{receiver.Url}}"}""")).ExpectAsync(200);
        _server.Clock.Advance(TimeSpan.FromMinutes(2));

        var request = (await receiver.WaitForAsync(r => r.Count == 1, Patience))[0];
        Assert.Equal(refused.GetProperty("delivery_id").GetString(), request.WebhookId);
        Assert.True(request.AnchorVerified && request.StandardVerified);
    }

    [Fact]
    public async Task AWebhookFailingForTheDisableAfterPeriodIsDisabled()
    {
        var (partner, client) = await FirstAttemptFailedAsync();
        Assert.Equal("enabled", await WebhookStatusAsync(client, partner));

        _server.Clock.Advance(TimeSpan.FromDays(4)); // Webhooks:DisableAfter is 5 days by default
        await WaitForDeliveryAsync(client, partner, d => d.GetProperty("attempts").GetInt32() == 2);
        Assert.Equal("enabled", await WebhookStatusAsync(client, partner));

        _server.Clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(2));
        await WaitForDeliveryAsync(client, partner, d => d.GetProperty("attempts").GetInt32() == 3);

        var webhook = await WaitForWebhookAsync(client, partner, w => w.GetProperty("status").GetString() == "disabled");
        Assert.Contains("DisableAfter", webhook.GetProperty("disabled_reason").GetString());
    }

    [Fact]
    public async Task TwoServersDispatchingFromOneDatabaseSendEachDeliveryOnce()
    {
        await using var second = await ServerUnderTest.StartBesideAsync(_server, new Dictionary<string, string?>
        {
            ["Webhooks:AllowPrivateNetworks"] = "true",
            ["Webhooks:Concurrency"] = "4",
        });
        var (partner, client) = await _server.NewPartnerAsync();
        var receiver = await ReceiverAsync();
        receiver.Behaviour = (_, _) => new ReceiverAnswer(200, Delay: TimeSpan.FromMilliseconds(20));
        await RegisterAsync(client, partner, receiver);
        var prospects = Enumerable.Range(1, 60).Select(Feed.Id).ToArray();
        await EnrollAsync(client, "first", prospects[..20]);
        await EnrollAsync(client, "second", prospects[20..40]);
        await EnrollAsync(client, "third", prospects[40..]);

        await MoveAsync("Globex", prospects);

        await WaitForAllAsync(client, partner, d => d.GetProperty("status").GetString() == "delivered", 60);
        await WaitUntilIdleAsync(_server, second);
        Assert.Equal(60, receiver.Requests.Count);
        Assert.Equal(60, receiver.Requests.Select(r => r.WebhookId).Distinct().Count());
    }

    [Fact]
    public async Task APartnerWithASlowReceiverCannotHoldEverySlotWhileAnotherPartnersDeliveriesWait()
    {
        await using var server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?>
        {
            ["Webhooks:AllowPrivateNetworks"] = "true",
            ["Webhooks:Concurrency"] = "4",
            ["Webhooks:Timeout"] = "00:00:05",
        });
        var (slow, slowClient) = await server.NewPartnerAsync("slow");
        var (fast, fastClient) = await server.NewPartnerAsync("fast");
        var slowReceiver = await ReceiverAsync();
        slowReceiver.Clock = server.Clock;
        slowReceiver.Behaviour = (_, _) => new ReceiverAnswer(200, Delay: TimeSpan.FromMilliseconds(800));
        var fastReceiver = await ReceiverAsync();
        fastReceiver.Clock = server.Clock;
        var prospects = Enumerable.Range(1, 40).Select(Feed.Id).ToArray();
        foreach (var (partner, client, receiver) in new[] { (slow, slowClient, slowReceiver), (fast, fastClient, fastReceiver) })
        {
            await EnrollAsync(client, "first", prospects[..20]);
            await EnrollAsync(client, "second", prospects[20..]);
        }
        await RegisterAsync(slowClient, slow, slowReceiver);
        var started = DateTime.UtcNow;
        var at = server.Clock.GetUtcNow();
        await server.IngestAsync(Feed.Lines([
            .. prospects.Select(p => Feed.Line(p, at.AddDays(-30).ToString("O"), "Acme")),
            .. prospects.Select(p => Feed.Line(p, at.AddMinutes(-1).ToString("O"), "Globex"))]));
        await slowReceiver.WaitForAsync(r => r.Count >= 4, Patience); // the slow partner has every slot now
        await RegisterAsync(fastClient, fast, fastReceiver);

        await fastReceiver.WaitForAsync(r => r.Count >= 40, Patience);

        // 40 slow deliveries take 8 s on all four slots, 16 s on a fair half of them.
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(6), $"The fast partner waited {DateTime.UtcNow - started} for its deliveries");
        Assert.True(slowReceiver.Requests.Count < 40, "The slow partner's deliveries were all sent first");
    }

    [Fact]
    public async Task AQuietWebhookThatFailedLastWeekIsNotDisabledByItsNextFailure()
    {
        var (partner, client) = await FirstAttemptFailedAsync();

        _server.Clock.Advance(TimeSpan.FromDays(6)); // nothing failed for longer than Webhooks:DisableAfter
        await WaitForDeliveryAsync(client, partner, d => d.GetProperty("attempts").GetInt32() == 2);

        Assert.Equal("enabled", await WebhookStatusAsync(client, partner));
    }
}

public sealed class SqliteWebhookDeliveryTests() : WebhookDeliveryContract(Backend.Sqlite);

public sealed class PostgresWebhookDeliveryTests() : WebhookDeliveryContract(Backend.Postgres);
