using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using ProspectEvents.Server.Webhooks;
using ProspectEvents.Tests.Infrastructure;
using StandardWebhooks;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.V2;

/// <summary>
/// Deliveries with many webhooks (API v2): each event goes to the webhooks of the enrollments that match it, signed with
/// that webhook's secret, with its headers and format; rotation overlaps; disabled webhooks and paused enrollments get
/// nothing. Real receivers verify with their own code and with the StandardWebhooks package. Once per backend.
/// </summary>
public abstract class WebhooksV2DeliveryContract(Backend backend) : IAsyncLifetime
{
    private ServerUnderTest _server = null!;
    private readonly List<WebhookReceiver> _receivers = [];
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public async Task InitializeAsync()
    {
        _server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?>
        {
            ["Webhooks:AllowPrivateNetworks"] = "true",
            ["Webhooks:Timeout"] = "00:00:02",
        });
        // The StandardWebhooks package checks timestamps against the real clock: the server's starts at now.
        _server.Clock.Advance(DateTimeOffset.UtcNow - _server.Clock.GetUtcNow());
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        foreach (var receiver in _receivers) await receiver.DisposeAsync();
    }

    private sealed record Hook(string Id, string Secret, string StandardSecret, WebhookReceiver Receiver);

    private async Task<Hook> CreateWebhookAsync(HttpClient client, string name, string extra = "")
    {
        var receiver = await WebhookReceiver.StartAsync(Convert.ToBase64String(new byte[32]));
        receiver.Clock = _server.Clock;
        _receivers.Add(receiver);
        var created = await (await client.PostJsonAsync("/v2/webhooks", $$"""{"name":"{{name}}","webhook_url":"{{receiver.Url}}"{{extra}}}""")).ExpectAsync(201);
        receiver.SetSecret(created.GetProperty("webhook_secret").GetString()!);
        return new Hook(created.GetProperty("webhook_id").GetString()!, created.GetProperty("webhook_secret").GetString()!,
            created.GetProperty("standard_webhooks_secret").GetString()!, receiver);
    }

    private static async Task<string> EnrollAsync(HttpClient client, string key, Hook hook, params string[] prospects) =>
        (await (await client.PostJsonAsync("/v2/prospects/events/enrollments",
            $$"""{"enrollment_key":"{{key}}","webhook_id":"{{hook.Id}}","event_types":["prospect_changed_company"],"prospect_ids":[{{V2Json.Ids(prospects)}}]}""")).ExpectAsync(201))
            .GetProperty("enrollment_id").GetString()!;

    private readonly Dictionary<string, int> _moves = [];

    /// <summary>A company change for each prospect, detected now: after a baseline the first time, to a new employer each call.</summary>
    private async Task MoveAsync(params string[] prospects)
    {
        _server.Clock.Advance(TimeSpan.FromSeconds(2)); // each move observed after the last
        var at = _server.Clock.GetUtcNow();
        var lines = new List<string>();
        foreach (var p in prospects)
        {
            var round = _moves[p] = _moves.GetValueOrDefault(p) + 1;
            if (round == 1) lines.Add(Feed.Line(p, at.AddDays(-30).ToString("O"), "Company 0"));
            lines.Add(Feed.Line(p, at.AddSeconds(-1).ToString("O"), $"Company {round}"));
        }
        Assert.Equal(prospects.Length, (await _server.IngestAsync(Feed.Lines([.. lines]))).GetProperty("events").GetInt32());
    }

    /// <summary>Waits until the dispatcher has nothing in flight: every request sent so far has arrived and been answered.</summary>
    private async Task WaitUntilIdleAsync()
    {
        var dispatcher = _server.Services.GetRequiredService<DeliveryDispatcher>();
        var deadline = DateTime.UtcNow + Patience;
        while (dispatcher.InFlight > 0)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The dispatcher still has deliveries in flight");
            await Task.Delay(20);
        }
    }

    /// <summary>The StandardWebhooks package's verdict on a request, with the given <c>whsec_</c> secret.</summary>
    private static bool PackageVerifies(ReceivedRequest request, string standardSecret)
    {
        var headers = new HeaderDictionary(request.Headers.ToDictionary(h => h.Key, h => new StringValues(h.Value), StringComparer.OrdinalIgnoreCase));
        try
        {
            new StandardWebhook(standardSecret).Verify(request.BodyText, headers);
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }

    private static JsonElement Body(ReceivedRequest request)
    {
        var root = JsonDocument.Parse(request.Body).RootElement;
        return root.ValueKind == JsonValueKind.Object && root.TryGetProperty("text", out var text) ? JsonDocument.Parse(text.GetString()!).RootElement : root;
    }

    private static string[] ProspectsOf(IEnumerable<ReceivedRequest> requests) => [.. requests.Select(r => Body(r).GetProperty("entity_id").GetString()!).Order()];

    [Fact]
    public async Task EveryEventReachesExactlyTheWebhooksOfItsEnrollmentsSignedWithEachWebhooksOwnSecret()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        var one = await CreateWebhookAsync(client, "one");
        var two = await CreateWebhookAsync(client, "two", ""","headers":["X-Team: two"]""");
        var three = await CreateWebhookAsync(client, "three", ""","payload_format":"stringified_json" """);
        var (a, b, c, d) = (Feed.Id(1), Feed.Id(2), Feed.Id(3), Feed.Id(4));
        var enrollments = new Dictionary<string, string>
        {
            [one.Id] = await EnrollAsync(client, "first", one, a, b),
            [two.Id] = await EnrollAsync(client, "second", two, b, c),
            [three.Id] = await EnrollAsync(client, "third", three, a, c, d),
        };

        await MoveAsync(a, b, c, d);

        await one.Receiver.WaitForAsync(r => r.Count >= 2, Patience);
        await two.Receiver.WaitForAsync(r => r.Count >= 2, Patience);
        await three.Receiver.WaitForAsync(r => r.Count >= 3, Patience);
        await WaitUntilIdleAsync();
        Assert.Equal([a, b], ProspectsOf(one.Receiver.Requests));
        Assert.Equal([b, c], ProspectsOf(two.Receiver.Requests));
        Assert.Equal([a, c, d], ProspectsOf(three.Receiver.Requests));

        Hook[] hooks = [one, two, three];
        foreach (var hook in hooks)
        {
            foreach (var request in hook.Receiver.Requests)
            {
                Assert.True(request.AnchorVerified, $"X-Signature did not verify for {hook.Id}");
                Assert.True(request.StandardVerified, $"webhook-signature did not verify for {hook.Id}");
                Assert.True(PackageVerifies(request, hook.StandardSecret), "the StandardWebhooks package refused the delivery");
                Assert.All(hooks.Where(h => h != hook), other => Assert.False(PackageVerifies(request, other.StandardSecret), "signed with another webhook's secret"));
                var body = Body(request);
                Assert.Equal(hook.Id, body.GetProperty("webhook_id").GetString());
                Assert.Equal(partner, body.GetProperty("tenant_id").GetString());
                Assert.Equal(partner, body.GetProperty("partner_id").GetString());
                Assert.Equal(enrollments[hook.Id], body.GetProperty("enrollment_id").GetString());
                Assert.Equal(body.GetProperty("entity_id").GetString(), body.GetProperty("prospect_id").GetString());
                Assert.Equal("prospect", body.GetProperty("entity_type").GetString());
                Assert.Equal(hook == two ? "two" : null, request.Headers.GetValueOrDefault("X-Team"));
            }
        }
        var wrapped = JsonDocument.Parse(three.Receiver.Requests[0].Body).RootElement;
        Assert.Equal(["text"], wrapped.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task AV1EnrollmentKeepsItsV1PayloadOnTheLegacyWebhookBesideV2Ones()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        var legacy = await WebhookReceiver.StartAsync(Convert.ToBase64String(new byte[32]));
        legacy.Clock = _server.Clock;
        _receivers.Add(legacy);
        var registered = await (await client.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{partner}}","webhook_url":"{{legacy.Url}}"}""")).ExpectAsync(200);
        legacy.SetSecret(registered.GetProperty("webhook_secret").GetString()!);
        var v2 = await CreateWebhookAsync(client, "crm");
        await (await client.PostJsonAsync(EnrollmentsPath,
            $$"""{"enrollment_key":"legacy-movers","event_types":["prospect_changed_company"],"prospect_ids":["{{Feed.Dana}}"]}""")).ExpectAsync(200);
        await EnrollAsync(client, "crm-movers", v2, Feed.Dana);

        await MoveAsync(Feed.Dana);

        var v1Request = (await legacy.WaitForAsync(r => r.Count >= 1, Patience))[0];
        var v2Request = (await v2.Receiver.WaitForAsync(r => r.Count >= 1, Patience))[0];
        Assert.True(v1Request.AnchorVerified && v1Request.StandardVerified);
        Assert.Equal(["event_id", "event_name", "entity_id", "entity_type", "partner_id", "enrollment_key", "event_time", "data"],
            Body(v1Request).EnumerateObject().Select(p => p.Name));
        Assert.Equal("legacy-movers", Body(v1Request).GetProperty("enrollment_key").GetString());
        Assert.Equal("crm-movers", Body(v2Request).GetProperty("enrollment_key").GetString());
        Assert.Equal(Body(v1Request).GetProperty("event_id").GetString(), Body(v2Request).GetProperty("event_id").GetString());
    }

    [Fact]
    public async Task ARotationInTheMiddleOfAStreamLosesNoDeliveryForAReceiverHoldingEitherSecret()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var hook = await CreateWebhookAsync(client, "stream");
        var prospects = Enumerable.Range(1, 20).Select(Feed.Id).ToArray();
        await EnrollAsync(client, "stream", hook, prospects);

        await MoveAsync(prospects[..10]);
        await hook.Receiver.WaitForAsync(r => r.Count >= 10, Patience);
        var rotated = await (await client.PostAsync($"/v2/webhooks/{hook.Id}/rotate_secret", null)).ExpectAsync(200);
        var newSecret = rotated.GetProperty("webhook_secret").GetString()!;
        var newStandard = rotated.GetProperty("standard_webhooks_secret").GetString()!;
        Assert.NotEqual(hook.Secret, newSecret);
        await MoveAsync(prospects[10..]);
        var requests = await hook.Receiver.WaitForAsync(r => r.Count >= 20, Patience);
        await WaitUntilIdleAsync();

        Assert.Equal(prospects.Order(), ProspectsOf(requests));
        // The receiver still holds the old secret: Standard Webhooks verifies every one of them, during the overlap too.
        Assert.All(requests, r => Assert.True(r.StandardVerified, "refused with the old secret: " + r.Headers["webhook-signature"]));
        Assert.All(requests, r => Assert.True(PackageVerifies(r, hook.StandardSecret), "the package refused with the old secret: " + r.Headers["webhook-signature"]));
        Assert.All(requests.Take(10), r => Assert.True(r.AnchorVerified));
        // After the rotation each also verifies with the new secret, and X-Signature uses the new one only, as the anchor's does.
        Assert.All(requests.Skip(10), r => Assert.True(PackageVerifies(r, newStandard), "refused with the new secret"));
        Assert.All(requests.Skip(10), r => Assert.Equal(2, r.Headers["webhook-signature"].Split(' ').Distinct().Count()));
        Assert.All(requests.Skip(10), r => Assert.False(r.AnchorVerified, "X-Signature still made with the old secret"));
        hook.Receiver.SetSecret(newSecret);

        // Once the overlap (24 h by default) is over, only the new secret signs.
        _server.Clock.Advance(TimeSpan.FromHours(25));
        await MoveAsync(prospects[0]);
        var late = (await hook.Receiver.WaitForAsync(r => r.Count >= 21, Patience))[20];
        Assert.True(late.AnchorVerified && late.StandardVerified, "the new secret does not verify");
        Assert.Single(late.Headers["webhook-signature"].Split(' '));
    }

    [Fact]
    public async Task ADisabledWebhookAndAPausedEnrollmentReceiveNothingAndTheWebhooksDeliveriesWaitForIt()
    {
        var (_, client) = await _server.NewPartnerAsync();
        var disabled = await CreateWebhookAsync(client, "disabled");
        var control = await CreateWebhookAsync(client, "control");
        var doomed = await CreateWebhookAsync(client, "doomed");
        var (a, b, c) = (Feed.Id(11), Feed.Id(12), Feed.Id(13));
        await EnrollAsync(client, "to-disabled", disabled, a);
        var paused = await EnrollAsync(client, "to-be-paused", doomed, b);
        await EnrollAsync(client, "control", control, c);
        await (await client.SendJsonAsync(HttpMethod.Patch, $"/v2/webhooks/{disabled.Id}", """{"status":"disabled"}""")).ExpectAsync(200);
        var deleted = await (await client.DeleteAsync($"/v2/webhooks/{doomed.Id}?force=true")).ExpectAsync(200);
        Assert.Equal([paused], deleted.GetProperty("affected_enrollment_ids").Strings());

        await MoveAsync(a, b, c);

        await control.Receiver.WaitForAsync(r => r.Count >= 1, Patience);
        await WaitUntilIdleAsync();
        Assert.Empty(disabled.Receiver.Requests);
        Assert.Empty(doomed.Receiver.Requests);
        var waiting = (await (await client.GetAsync($"/v2/webhooks/{disabled.Id}/deliveries")).ExpectAsync(200)).GetProperty("deliveries");
        Assert.Equal(["pending"], waiting.EnumerateArray().Select(d => d.GetProperty("status").GetString()));
        Assert.Equal(0, waiting[0].GetProperty("attempts").GetInt32());

        // Enabled again, the webhook gets what waited; the paused enrollment, pointed at the control webhook, gets only
        // what is detected from then on.
        await (await client.SendJsonAsync(HttpMethod.Patch, $"/v2/webhooks/{disabled.Id}", """{"status":"active"}""")).ExpectAsync(200);
        Assert.Equal([a], ProspectsOf(await disabled.Receiver.WaitForAsync(r => r.Count >= 1, Patience)));
        var resumed = await (await client.SendJsonAsync(HttpMethod.Patch, $"/v2/prospects/events/enrollments/{paused}", $$"""{"webhook_id":"{{control.Id}}"}""")).ExpectAsync(200);
        Assert.Equal("active", resumed.GetProperty("status").GetString());
        await MoveAsync(b);
        var received = await control.Receiver.WaitForAsync(r => r.Count >= 2, Patience);
        await WaitUntilIdleAsync();
        Assert.Equal([b, c], ProspectsOf(control.Receiver.Requests));
        Assert.Equal("to-be-paused", Body(received.Single(r => Body(r).GetProperty("entity_id").GetString() == b)).GetProperty("enrollment_key").GetString());
    }
}

public sealed class SqliteWebhooksV2DeliveryTests() : WebhooksV2DeliveryContract(Backend.Sqlite);

public sealed class PostgresWebhooksV2DeliveryTests() : WebhooksV2DeliveryContract(Backend.Postgres);
