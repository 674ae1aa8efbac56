using System.Text.Json;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Telemetry;

/// <summary>
/// <c>/metrics</c> after a real ingest over HTTP and real deliveries to loopback receivers: every instrument of
/// docs/telemetry.md under its exported Prometheus name, with the values the ingest and the deliveries imply. Once per
/// backend, since the outbox gauges read the store.
/// </summary>
[Collection(TelemetryCollection.Name)]
public abstract class MetricsContract(Backend backend) : IAsyncLifetime
{
    private ServerUnderTest _server = null!;
    private readonly List<WebhookReceiver> _receivers = [];

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private const string Role = "3000000000000000000000000000000000000003";

    public async Task InitializeAsync() => _server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?>
    {
        ["Webhooks:AllowPrivateNetworks"] = "true",
        ["Webhooks:RetrySchedule"] = "0s,1m",
        ["Webhooks:Timeout"] = "00:00:10", // generous: a cold receiver on a busy machine is slow to answer its first request
        ["Telemetry:OutboxRefresh"] = "00:00:00",
    });

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        foreach (var receiver in _receivers) await receiver.DisposeAsync();
    }

    /// <summary>A partner whose webhook is a real receiver answering <paramref name="status"/>, enrolled on <paramref name="prospect"/>.</summary>
    private async Task<(string PartnerId, HttpClient Client, WebhookReceiver Receiver)> PartnerAsync(string name, int status, string prospect)
    {
        var (partner, client) = await _server.NewPartnerAsync(name);
        var receiver = await WebhookReceiver.StartAsync(Convert.ToBase64String(new byte[32]));
        receiver.Clock = _server.Clock;
        receiver.Behaviour = (_, _) => new ReceiverAnswer(status);
        _receivers.Add(receiver);
        var webhook = await (await client.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{partner}}","webhook_url":"{{receiver.Url}}"}""")).ExpectAsync(200);
        receiver.SetSecret(webhook.GetProperty("webhook_secret").GetString()!);
        await (await client.PostJsonAsync(EnrollmentsPath,
            $$"""{"enrollment_key":"movers","event_types":["prospect_changed_company","prospect_changed_role"],"prospect_ids":["{{prospect}}"]}""")).ExpectAsync(200);
        return (partner, client, receiver);
    }

    private async Task<JsonElement> OnlyDeliveryAsync(HttpClient client, string partnerId, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var deliveries = (await (await client.GetAsync($"/v1/webhooks/{partnerId}/deliveries")).ExpectAsync(200)).GetProperty("deliveries");
            if (deliveries.GetArrayLength() == 1 && done(deliveries[0])) return deliveries[0];
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited in vain for the delivery; last read: {deliveries}");
            await Task.Delay(50);
        }
    }

    /// <summary>Scrapes until <paramref name="done"/> holds (the exporter may answer from its short cache), or fails showing the last scrape.</summary>
    private async Task<PrometheusText> ScrapeUntilAsync(Func<PrometheusText, bool> done)
    {
        using var client = _server.Client(null);
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var response = await client.GetAsync("/metrics");
            Assert.Equal(200, (int)response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
            var scrape = PrometheusText.Parse(await response.Content.ReadAsStringAsync());
            if (done(scrape)) return scrape;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited in vain for the metrics; last scrape:\n{scrape.Text}");
            await Task.Delay(100);
        }
    }

    private static (string, string) Outcome(string value) => ("outcome", value);

    [Fact]
    public async Task Metrics_page_counts_the_ingest_and_the_deliveries_under_the_documented_names()
    {
        var (delivering, deliveringClient, _) = await PartnerAsync("delivering", 200, Feed.Dana);
        var (failing, failingClient, _) = await PartnerAsync("failing", 500, Feed.Eli);
        var at = _server.Clock.GetUtcNow();
        string When(TimeSpan ago) => (at - ago).ToString("O");

        await _server.IngestAsync(Feed.Lines(
            Feed.Line(Feed.Dana, When(TimeSpan.FromDays(30)), "Acme"),
            Feed.Line(Feed.Eli, When(TimeSpan.FromDays(30)), "Acme"),
            Feed.Line(Role, When(TimeSpan.FromDays(30)), "Acme", "Engineer")));
        var second = await _server.IngestAsync(Feed.Lines(
            Feed.Line(Feed.Dana, When(TimeSpan.FromMinutes(1)), "Globex"),
            Feed.Line(Feed.Eli, When(TimeSpan.FromMinutes(1)), "Initech"),
            Feed.Line(Role, When(TimeSpan.FromMinutes(1)), "Acme", "Director of Sales"),
            Feed.Line(Feed.Dana, When(TimeSpan.FromDays(40)), "Acme"), // older than what is known: stale
            "this line is not JSON"));
        Assert.Equal((4, 1, 1, 3), (second.GetProperty("observations").GetInt32(), second.GetProperty("stale").GetInt32(),
            second.GetProperty("rejected").GetInt32(), second.GetProperty("events").GetInt32()));

        await OnlyDeliveryAsync(deliveringClient, delivering, d => d.GetProperty("status").GetString() == "delivered");
        await OnlyDeliveryAsync(failingClient, failing, d => d.GetProperty("attempts").GetInt32() == 1);
        _server.Clock.Advance(TimeSpan.FromSeconds(30)); // the retry is not due before 48 s (1 min less 20 % jitter)

        var scrape = await ScrapeUntilAsync(s => s.Value("prospect_events_deliveries_total", Outcome("retried")) == 1
            && s.Value("prospect_events_outbox_oldest_pending_age_seconds") == 30);
        Assert.Equal(6, scrape.Value("prospect_events_observations_total", Outcome("taken"))); // 3 + 4 − 1 stale
        Assert.Equal(1, scrape.Value("prospect_events_observations_total", Outcome("stale")));
        Assert.Equal(1, scrape.Value("prospect_events_observations_total", Outcome("rejected")));
        Assert.Equal(2, scrape.Value("prospect_events_events_total", ("event_name", "prospect_changed_company")));
        Assert.Equal(1, scrape.Value("prospect_events_events_total", ("event_name", "prospect_changed_role")));
        Assert.Equal(1, scrape.Value("prospect_events_deliveries_total", Outcome("delivered")));
        Assert.Null(scrape.Value("prospect_events_deliveries_total", Outcome("failed")));
        Assert.Equal(2, scrape.Value("prospect_events_delivery_duration_seconds_count"));
        Assert.Equal(1, scrape.Value("prospect_events_outbox_pending"));
        Assert.Equal(2, scrape.Value("prospect_events_ingest_batch_duration_seconds_count"));
        Assert.Equal(2, scrape.Value("prospect_events_ingest_batch_duration_seconds_bucket", ("le", "+Inf")));

        _server.Clock.Advance(TimeSpan.FromMinutes(2)); // the last attempt falls due, and fails
        await OnlyDeliveryAsync(failingClient, failing, d => d.GetProperty("status").GetString() == "failed");
        scrape = await ScrapeUntilAsync(s => s.Value("prospect_events_deliveries_total", Outcome("failed")) == 1
            && s.Value("prospect_events_outbox_pending") == 0);
        Assert.Equal(1, scrape.Value("prospect_events_deliveries_total", Outcome("retried")));
        Assert.Equal(1, scrape.Value("prospect_events_deliveries_total", Outcome("delivered")));
        Assert.Equal(3, scrape.Value("prospect_events_delivery_duration_seconds_count"));
        Assert.Equal(0, scrape.Value("prospect_events_outbox_oldest_pending_age_seconds"));

        Assert.Equal("counter", scrape.Types["prospect_events_observations_total"]);
        Assert.Equal("counter", scrape.Types["prospect_events_events_total"]);
        Assert.Equal("counter", scrape.Types["prospect_events_deliveries_total"]);
        Assert.Equal("histogram", scrape.Types["prospect_events_delivery_duration_seconds"]);
        Assert.Equal("histogram", scrape.Types["prospect_events_ingest_batch_duration_seconds"]);
        Assert.Equal("gauge", scrape.Types["prospect_events_outbox_pending"]);
        Assert.Equal("gauge", scrape.Types["prospect_events_outbox_oldest_pending_age_seconds"]);
        // No partner id, key or webhook address is a label value, our instruments' or the HTTP client's.
        Assert.DoesNotContain(delivering, scrape.Text);
        Assert.DoesNotContain(failing, scrape.Text);
        Assert.DoesNotContain("pek_", scrape.Text);
        var outbound = scrape.Samples.Where(s => s.Name.StartsWith("http_client_", StringComparison.Ordinal)).ToList();
        Assert.Contains(outbound, s => s.Name == "http_client_request_duration_seconds_count" && s.Labels.GetValueOrDefault("http_response_status_code") == "500");
        Assert.DoesNotContain(outbound, s => s.Labels.ContainsKey("server_address") || s.Labels.ContainsKey("server_port") || s.Labels.ContainsKey("url_full"));
        Assert.Contains(scrape.Samples, s => s.Name.StartsWith("http_server_request_duration_seconds", StringComparison.Ordinal));
        Assert.Contains(scrape.Samples, s => s.Name.StartsWith("dotnet_gc_", StringComparison.Ordinal));
    }
}

public sealed class SqliteMetricsTests() : MetricsContract(Backend.Sqlite);

public sealed class PostgresMetricsTests() : MetricsContract(Backend.Postgres);
