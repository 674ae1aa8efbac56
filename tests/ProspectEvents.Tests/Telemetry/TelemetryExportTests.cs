using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Telemetry;

/// <summary>OTLP export to a real loopback endpoint, traces included, and who may read <c>/metrics</c>.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryExportTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Otlp_export_sends_our_metrics_and_spans_and_webhook_requests_carry_no_trace_context()
    {
        await using var otlp = await OtlpReceiver.StartAsync();
        await using var server = await ServerUnderTest.StartAsync(Backend.Sqlite, new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.Address.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "300",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["Webhooks:AllowPrivateNetworks"] = "true",
        });
        await using var receiver = await WebhookReceiver.StartAsync(Convert.ToBase64String(new byte[32]));
        receiver.Clock = server.Clock;
        var (partner, client) = await server.NewPartnerAsync();
        var webhook = await (await client.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{partner}}","webhook_url":"{{receiver.Url}}"}""")).ExpectAsync(200);
        receiver.SetSecret(webhook.GetProperty("webhook_secret").GetString()!);
        await (await client.PostJsonAsync(EnrollmentsPath,
            $$"""{"enrollment_key":"movers","event_types":["prospect_changed_company"],"prospect_ids":["{{Feed.Dana}}"]}""")).ExpectAsync(200);

        // The ingest request comes in as part of a caller's trace: its spans join it, the webhook request must not.
        using var admin = server.Client(server.AdminKey);
        var at = server.Clock.GetUtcNow();
        using var ingest = new HttpRequestMessage(HttpMethod.Post, "/v1/admin/observations")
        {
            Content = new StringContent(Feed.Lines(Feed.Line(Feed.Dana, at.AddDays(-30).ToString("O"), "Acme"), Feed.Line(Feed.Dana, at.AddMinutes(-1).ToString("O"), "Globex"))),
        };
        ingest.Headers.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        await (await admin.SendAsync(ingest)).ExpectAsync(200);
        var delivered = (await receiver.WaitForAsync(r => r.Count >= 1, Patience))[0];
        await (await client.GetAsync($"/v1/webhooks/{partner}")).ExpectAsync(200); // a partner id in the path

        Assert.True(delivered.StandardVerified);
        Assert.DoesNotContain(delivered.Headers.Keys, name => name.Equals("traceparent", StringComparison.OrdinalIgnoreCase)
            || name.Equals("tracestate", StringComparison.OrdinalIgnoreCase) || name.Equals("baggage", StringComparison.OrdinalIgnoreCase));
        await otlp.WaitForAsync(() => otlp.Received("/v1/metrics", "prospect_events.observations", "prospect_events.events",
            "prospect_events.deliveries", "prospect_events.delivery.duration", "prospect_events.ingest.batch.duration",
            "prospect_events.outbox.pending", "prospect_events.outbox.oldest_pending_age"), "our instruments over OTLP");
        await otlp.WaitForAsync(() => otlp.Received("/v1/traces", "ingest batch", "webhook delivery", "prospect_events.attempt",
            "POST /v1/admin/observations", "/v1/webhooks/{partner_id}"), "the ingest batch, delivery and request spans over OTLP");
        Assert.False(otlp.AnyHolds("/v1/traces", receiver.Url), $"a span holds the webhook URL: {otlp.Around("/v1/traces", receiver.Url)}");
        Assert.False(otlp.AnyHolds("/v1/traces", partner), $"a span holds the partner id: {otlp.Around("/v1/traces", partner)}");
    }

    [Fact]
    public async Task Metrics_page_is_not_served_when_prometheus_is_off()
    {
        await using var server = await ServerUnderTest.StartAsync(Backend.Sqlite, new Dictionary<string, string?> { ["Telemetry:Prometheus"] = "false" });
        using var anyone = server.Client(null);
        using var admin = server.Client(server.AdminKey);

        Assert.Equal(404, (int)(await anyone.GetAsync("/metrics")).StatusCode);
        Assert.Equal(404, (int)(await admin.GetAsync("/metrics")).StatusCode);
        Assert.Equal(200, (int)(await anyone.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Metrics_page_is_open_by_default()
    {
        await using var server = await ServerUnderTest.StartAsync(Backend.Sqlite);
        using var anyone = server.Client(null);

        var response = await anyone.GetAsync("/metrics");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains("# TYPE prospect_events_outbox_pending gauge", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Metrics_page_needs_an_admin_key_when_access_is_admin()
    {
        await using var server = await ServerUnderTest.StartAsync(Backend.Sqlite, new Dictionary<string, string?> { ["Telemetry:PrometheusAccess"] = "admin" });
        var (_, partnerClient) = await server.NewPartnerAsync();
        using var anyone = server.Client(null);
        using var admin = server.Client(server.AdminKey);

        var refused = await anyone.GetAsync("/metrics");
        Assert.Equal(401, (int)refused.StatusCode);
        Assert.Contains("api_key", (await refused.JsonAsync()).GetProperty("detail").GetString());
        Assert.Equal(403, (int)(await partnerClient.GetAsync("/metrics")).StatusCode);
        var allowed = await admin.GetAsync("/metrics");
        Assert.Equal(200, (int)allowed.StatusCode);
        Assert.Contains("prospect_events_outbox_pending", await allowed.Content.ReadAsStringAsync());
    }
}
