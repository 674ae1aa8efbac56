using System.Text.Json;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Webhooks;

/// <summary>The webhook registration endpoints and check_connectivity, over real HTTP, once per backend.</summary>
public abstract class WebhookApiContract(Backend backend) : IAsyncLifetime
{
    private ServerUnderTest _server = null!;
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?> { ["Webhooks:AllowPrivateNetworks"] = "true", ["Roles"] = "api" });
        _receiver = await WebhookReceiver.StartAsync(Convert.ToBase64String(new byte[32]));
        _receiver.Clock = _server.Clock;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private static string Registration(string partnerId, string url, string extra = "") => $$"""{"partner_id":"{{partnerId}}","webhook_url":"{{url}}"{{extra}}}""";

    [Fact]
    public async Task RegisteringAnswersTheAnchorsShapeWithTheSecretInBothForms()
    {
        var (partner, client) = await _server.NewPartnerAsync();

        var webhook = await (await client.PostJsonAsync("/v1/webhooks", Registration(partner, _receiver.Url))).ExpectAsync(200);

        Assert.Equal("success", webhook.GetProperty("response_context").GetProperty("request_status").GetString());
        Assert.Equal(_receiver.Url, webhook.GetProperty("webhook_url").GetString());
        Assert.Equal("json", webhook.GetProperty("payload_format").GetString());
        Assert.Empty(webhook.GetProperty("headers").EnumerateArray());
        Assert.Equal("enabled", webhook.GetProperty("status").GetString());
        Assert.Equal(_server.Clock.GetUtcNow(), webhook.GetProperty("created_at").GetDateTimeOffset());
        Assert.Equal(_server.Clock.GetUtcNow(), webhook.GetProperty("last_modified_time").GetDateTimeOffset());
        var anchor = webhook.GetProperty("webhook_secret").GetString()!;
        var standard = webhook.GetProperty("standard_webhooks_secret").GetString()!;
        var key = Convert.FromBase64String(anchor.Replace('-', '+').Replace('_', '/'));
        Assert.Equal(32, key.Length);
        Assert.Equal(44, anchor.Length); // base64url with its padding
        Assert.Equal("whsec_" + Convert.ToBase64String(key), standard);

        var fetched = await (await client.GetAsync($"/v1/webhooks/{partner}")).ExpectAsync(200);
        Assert.Equal(anchor, fetched.GetProperty("webhook_secret").GetString());
    }

    [Fact]
    public async Task RegisteringAgainRotatesTheSecretAndKeepsTheCreationTime()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        var first = await (await client.PostJsonAsync("/v1/webhooks", Registration(partner, _receiver.Url))).ExpectAsync(200);
        _server.Clock.Advance(TimeSpan.FromHours(1));

        var second = await (await client.PostJsonAsync("/v1/webhooks", Registration(partner, _receiver.Url + "/v2", ""","headers":["X-Team: growth"]"""))).ExpectAsync(200);

        Assert.NotEqual(first.GetProperty("webhook_secret").GetString(), second.GetProperty("webhook_secret").GetString());
        Assert.Equal(first.GetProperty("created_at").GetDateTimeOffset(), second.GetProperty("created_at").GetDateTimeOffset());
        Assert.Equal(_server.Clock.GetUtcNow(), second.GetProperty("last_modified_time").GetDateTimeOffset());
        Assert.Equal(["X-Team: growth"], second.GetProperty("headers").Strings());
    }

    [Fact]
    public async Task PutChangesTheUrlAndKeepsTheSecret()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        var first = await (await client.PostJsonAsync("/v1/webhooks", Registration(partner, _receiver.Url))).ExpectAsync(200);

        var updated = await (await client.SendJsonAsync(HttpMethod.Put, $"/v1/webhooks/{partner}", $$"""{"webhook_url":"{{_receiver.Url}}/moved"}""")).ExpectAsync(200);

        Assert.Equal(_receiver.Url + "/moved", updated.GetProperty("webhook_url").GetString());
        Assert.Equal(first.GetProperty("webhook_secret").GetString(), updated.GetProperty("webhook_secret").GetString());
    }

    [Fact]
    public async Task DeleteRemovesTheWebhook()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        await (await client.PostJsonAsync("/v1/webhooks", Registration(partner, _receiver.Url))).ExpectAsync(200);

        var deleted = await (await client.DeleteAsync($"/v1/webhooks/{partner}")).ExpectAsync(200);

        Assert.Equal("success", deleted.GetProperty("response_context").GetProperty("request_status").GetString());
        await (await client.GetAsync($"/v1/webhooks/{partner}")).ExpectAsync(404);
        await (await client.DeleteAsync($"/v1/webhooks/{partner}")).ExpectAsync(404);
        await (await client.SendJsonAsync(HttpMethod.Put, $"/v1/webhooks/{partner}", $$"""{"webhook_url":"{{_receiver.Url}}"}""")).ExpectAsync(404);
    }

    [Fact]
    public async Task AnotherPartnersIdIsForbiddenEverywhere()
    {
        var (alice, aliceClient) = await _server.NewPartnerAsync("alice");
        var (bob, _) = await _server.NewPartnerAsync("bob");

        await (await aliceClient.PostJsonAsync("/v1/webhooks", Registration(bob, _receiver.Url))).ExpectAsync(403);
        await (await aliceClient.GetAsync($"/v1/webhooks/{bob}")).ExpectAsync(403);
        await (await aliceClient.SendJsonAsync(HttpMethod.Put, $"/v1/webhooks/{bob}", $$"""{"webhook_url":"{{_receiver.Url}}"}""")).ExpectAsync(403);
        await (await aliceClient.DeleteAsync($"/v1/webhooks/{bob}")).ExpectAsync(403);
        await (await aliceClient.PostJsonAsync("/v1/webhooks/check_connectivity", $$"""{"partner_id":"{{bob}}"}""")).ExpectAsync(403);
        await (await aliceClient.PostJsonAsync($"/v1/webhooks/{bob}/recover", """{"since":"2026-01-01"}""")).ExpectAsync(403);
        await (await aliceClient.GetAsync($"/v1/webhooks/{alice}")).ExpectAsync(404); // her own: not registered yet
    }

    [Theory]
    [InlineData("""{"webhook_url":"https://example.com/h"}""", "partner_id", "missing")]
    [InlineData("""{"partner_id":"P","webhook_url":"ftp://example.com/h"}""", "webhook_url", "value_error")]
    [InlineData("""{"partner_id":"P","webhook_url":"/relative"}""", "webhook_url", "value_error")]
    [InlineData("""{"partner_id":"P","webhook_url":"https://user:pw@example.com/h"}""", "webhook_url", "value_error")]
    [InlineData("""{"partner_id":"P","webhook_url":"https://93.184.216.34/h","payload_format":"xml"}""", "payload_format", "enum")]
    [InlineData("""{"partner_id":"P","webhook_url":"https://93.184.216.34/h","headers":["no colon"]}""", "headers", "value_error")]
    [InlineData("""{"partner_id":"P","webhook_url":"https://93.184.216.34/h","headers":["X-Signature: forged"]}""", "headers", "value_error")]
    [InlineData("""{"partner_id":"P","webhook_url":"https://93.184.216.34/h","headers":["X-Team: a\r\nX-Evil: b"]}""", "headers", "value_error")]
    [InlineData("""{"partner_id":"P","webhook_url":"https://93.184.216.34/h","headers":["X-Team: Équipe"]}""", "headers", "value_error")]
    [InlineData("""{"partner_id":"P","webhook_url":"https://93.184.216.34/h","headers":["Content-Language: fr"]}""", "headers", "value_error")]
    [InlineData("""{"partner_id":"P","webhook_url":"https://93.184.216.34/h","color":"red"}""", "color", "extra_forbidden")]
    public async Task AnInvalidRegistrationIs422AtTheFieldAndChangesNothing(string body, string field, string type)
    {
        var (partner, client) = await _server.NewPartnerAsync();

        var error = await (await client.PostJsonAsync("/v1/webhooks", body.Replace("\"P\"", $"\"{partner}\""))).ExpectAsync(422);

        var problem = error.GetProperty("detail").EnumerateArray().First();
        Assert.Equal(field, problem.GetProperty("loc")[1].GetString());
        Assert.Equal(type, problem.GetProperty("type").GetString());
        await (await client.GetAsync($"/v1/webhooks/{partner}")).ExpectAsync(404);
    }

    [Fact]
    public async Task CheckConnectivitySendsTheSimulatedEventsSigned()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        var webhook = await (await client.PostJsonAsync("/v1/webhooks", Registration(partner, _receiver.Url))).ExpectAsync(200);
        _receiver.SetSecret(webhook.GetProperty("standard_webhooks_secret").GetString()!);

        var report = await (await client.PostJsonAsync("/v1/webhooks/check_connectivity",
            $$$"""{"partner_id":"{{{partner}}}","simulation":{"event_name":"prospect_changed_role","number_of_events":3,"event_time":"2026-10-01T00:00:00Z"}}""")).ExpectAsync(200);

        Assert.Equal("success", report.GetProperty("response_context").GetProperty("request_status").GetString());
        Assert.Equal(3, report.GetProperty("results").GetArrayLength());
        Assert.Equal(3, _receiver.Requests.Count);
        Assert.All(_receiver.Requests, r => Assert.True(r.AnchorVerified && r.StandardVerified));
        Assert.Equal(3, _receiver.Requests.Select(r => r.WebhookId).Distinct().Count());
        var body = JsonDocument.Parse(_receiver.Requests[0].Body).RootElement;
        Assert.Equal("prospect_changed_role", body.GetProperty("event_name").GetString());
        Assert.Equal(partner, body.GetProperty("partner_id").GetString());
        Assert.Equal(new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero), body.GetProperty("event_time").GetDateTimeOffset());
        Assert.Equal("Senior Software Engineer", body.GetProperty("data").GetProperty("current_job_title").GetString());
    }

    [Fact]
    public async Task CheckConnectivityReportsAFailingReceiverAs400()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        await (await client.PostJsonAsync("/v1/webhooks", Registration(partner, _receiver.Url))).ExpectAsync(200);
        _receiver.Behaviour = (_, _) => new ReceiverAnswer(500);

        var error = await (await client.PostJsonAsync("/v1/webhooks/check_connectivity", $$"""{"partner_id":"{{partner}}"}""")).ExpectAsync(400);

        Assert.Equal("Client webhook failed on: HTTP 500", error.GetProperty("detail").GetString());
        Assert.Single(_receiver.Requests);
    }

    [Fact]
    public async Task CheckConnectivityValidatesTheSimulation()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        await (await client.PostJsonAsync("/v1/webhooks", Registration(partner, _receiver.Url))).ExpectAsync(200);

        var error = await (await client.PostJsonAsync("/v1/webhooks/check_connectivity",
            $$$"""{"partner_id":"{{{partner}}}","simulation":{"number_of_events":11,"colour":1}}""")).ExpectAsync(422);

        var locs = error.GetProperty("detail").EnumerateArray().Select(p => string.Join('.', p.GetProperty("loc").EnumerateArray().Select(l => l.ToString()))).ToList();
        Assert.Equal(["body.simulation.number_of_events", "body.simulation.colour"], locs);
        Assert.Empty(_receiver.Requests);
    }

    [Fact]
    public async Task CheckConnectivityWithoutAWebhookIs404()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        await (await client.PostJsonAsync("/v1/webhooks/check_connectivity", $$"""{"partner_id":"{{partner}}"}""")).ExpectAsync(404);
    }
}

public sealed class SqliteWebhookApiTests() : WebhookApiContract(Backend.Sqlite);

public sealed class PostgresWebhookApiTests() : WebhookApiContract(Backend.Postgres);
