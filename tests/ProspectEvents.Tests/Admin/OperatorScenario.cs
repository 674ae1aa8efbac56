using System.Text.Json;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Admin;

/// <summary>
/// A server with what the operator page shows, made through the real API: partner acme (its v1 webhook a receiver
/// that answers 500, so every delivery fails at once with a one-attempt schedule) and partner globex (a v2 webhook
/// that takes everything), both enrolling Dana; acme also Eli. Three ingests over HTTP: a baseline on 1 November,
/// a company and a role change late that day, another company change on 2 November, and one no-change ingest by the verb.
/// </summary>
public sealed class OperatorScenario : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private OperatorScenario(ServerUnderTest server, WebhookReceiver failing, WebhookReceiver taking, string acme, string globex, string globexWebhook)
    {
        Server = server;
        Failing = failing;
        Taking = taking;
        AcmeId = acme;
        GlobexId = globex;
        GlobexWebhookId = globexWebhook;
    }

    public ServerUnderTest Server { get; }

    /// <summary>acme's receiver: 500 to everything until a test changes its behaviour.</summary>
    public WebhookReceiver Failing { get; }

    public WebhookReceiver Taking { get; }

    public string AcmeId { get; }

    public string GlobexId { get; }

    public string GlobexWebhookId { get; }

    /// <summary>Failed deliveries the scenario ends with: acme's, one per event (Dana twice, Eli once).</summary>
    public const int FailedDeliveries = 3;

    public static async Task<OperatorScenario> StartAsync(Backend backend, Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configure = null)
    {
        var server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?>
        {
            ["Webhooks:AllowPrivateNetworks"] = "true",
            ["Webhooks:RetrySchedule"] = "0s",
            ["Webhooks:Timeout"] = "00:00:02",
            ["RateLimiting:PermitsPerWindow"] = "100000",
        }, configure);
        var failing = await WebhookReceiver.StartAsync(Convert.ToBase64String(new byte[32]));
        failing.Clock = server.Clock;
        failing.Behaviour = (_, _) => new ReceiverAnswer(500);
        var taking = await WebhookReceiver.StartAsync(Convert.ToBase64String(new byte[32]));
        taking.Clock = server.Clock;

        var (acme, acmeClient) = await server.NewPartnerAsync("acme");
        var webhook = await (await acmeClient.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{acme}}","webhook_url":"{{failing.Url}}"}""")).ExpectAsync(200);
        failing.SetSecret(webhook.GetProperty("webhook_secret").GetString()!);
        await (await acmeClient.PostJsonAsync(EnrollmentsPath,
            $$"""{"enrollment_key":"movers","event_types":["prospect_changed_company","prospect_changed_role"],"prospect_ids":["{{Feed.Dana}}","{{Feed.Eli}}"]}""")).ExpectAsync(200);

        var (globex, globexClient) = await server.NewPartnerAsync("globex");
        var created = await (await globexClient.PostJsonAsync("/v2/webhooks", $$"""{"name":"crm","webhook_url":"{{taking.Url}}"}""")).ExpectAsync(201);
        taking.SetSecret(created.GetProperty("webhook_secret").GetString()!);
        var globexWebhook = created.GetProperty("webhook_id").GetString()!;
        await (await globexClient.PostJsonAsync("/v2/prospects/events/enrollments",
            $$"""{"enrollment_key":"dana","webhook_id":"{{globexWebhook}}","event_types":["prospect_changed_company"],"prospect_ids":["{{Feed.Dana}}"]}""")).ExpectAsync(201);
        acmeClient.Dispose();
        globexClient.Dispose();

        var scenario = new OperatorScenario(server, failing, taking, acme, globex, globexWebhook);
        await server.IngestAsync(Feed.Lines(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme"), Feed.Line(Feed.Eli, "2026-10-01T00:00:00Z", "Acme")));
        server.Clock.Advance(TimeSpan.FromHours(15.5)); // 1 November, 23:30
        await server.IngestAsync(Feed.Lines(Feed.Line(Feed.Dana, "2026-11-01T00:00:00Z", "Globex"), Feed.Line(Feed.Eli, "2026-11-01T00:00:00Z", "Acme", "Head of Sales")));
        // Each day's attempts are made before the clock moves on, so they are recorded on that day.
        await scenario.SettleAsync(2);
        server.Clock.Advance(TimeSpan.FromHours(8.5)); // 2 November, 08:00
        await server.IngestAsync(Feed.Lines(Feed.Line(Feed.Dana, "2026-11-02T00:00:00Z", "Initech")));
        await server.IngestElsewhereAsync(Feed.Lines(Feed.Line(Feed.Eli, "2026-11-01T00:00:00Z", "Acme", "Head of Sales")));
        await scenario.SettleAsync(FailedDeliveries);
        return scenario;
    }

    /// <summary>Waits until no delivery is pending and <paramref name="failed"/> have failed.</summary>
    public Task SettleAsync(int failed) => WaitForAsync(async admin => await (await admin.GetAsync("/v1/admin/stats")).ExpectAsync(200),
        stats => stats.GetProperty("failed_deliveries").GetInt64() == failed && stats.GetProperty("pending_deliveries").GetInt64() == 0,
        $"no delivery pending and {failed} failed");

    public HttpClient Admin() => Server.Client(Server.AdminKey);

    /// <summary>Reads with the admin key until <paramref name="done"/> holds (the dispatcher works in the background), or fails showing the last read.</summary>
    public async Task<JsonElement> WaitForAsync(Func<HttpClient, Task<JsonElement>> read, Func<JsonElement, bool> done, string what)
    {
        using var admin = Admin();
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var value = await read(admin);
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited in vain for {what}; last read: {value}");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Failing.DisposeAsync();
        await Taking.DisposeAsync();
    }
}
