using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ProspectEvents.Server.Events;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Events;

/// <summary>
/// <c>Events:RetentionDays</c> (365 by default): events past it are deleted with their deliveries and everything else
/// derived from them, waiting deliveries expire with them, and one pass runs at a time across processes. Once per
/// backend; the clock starts at 2026-11-01 08:00 UTC, and the tests drive each pass themselves.
/// </summary>
public abstract class RetentionContract(Backend backend) : IAsyncLifetime
{
    private ServerUnderTest _server = null!;
    private readonly List<WebhookReceiver> _receivers = [];
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    // No scheduler role: no pass runs unless a test runs it.
    private static readonly Dictionary<string, string?> NoScheduler = new()
    {
        ["Roles"] = "api,ingest,dispatcher",
        ["Webhooks:AllowPrivateNetworks"] = "true",
    };

    public async Task InitializeAsync() => _server = await ServerUnderTest.StartAsync(backend, NoScheduler);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        foreach (var receiver in _receivers) await receiver.DisposeAsync();
    }

    private static EventRetention Retention(ServerUnderTest server) => server.Services.GetRequiredService<EventRetention>();

    private static string At(DateTimeOffset time) => time.ToString("O", CultureInfo.InvariantCulture);

    /// <summary>A company change for each prospect, observed a minute ago after a baseline a month before: detected now.</summary>
    private async Task MoveAsync(string company, params string[] prospects)
    {
        var now = _server.Clock.GetUtcNow();
        var lines = prospects.SelectMany(p => new[] { Feed.Line(p, At(now.AddDays(-30)), $"Before {company}"), Feed.Line(p, At(now.AddMinutes(-1)), company) });
        Assert.Equal(prospects.Length, (await _server.IngestAsync(Feed.Lines([.. lines]))).GetProperty("events").GetInt32());
    }

    private async Task<long> CountAsync(string table) =>
        Convert.ToInt64(await _server.SqlAsync($"SELECT COUNT(*) FROM {table}"), CultureInfo.InvariantCulture);

    private async Task<string[]> FetchedProspectsAsync(string path, params string[] prospects)
    {
        using var client = _server.Client(_server.AdminKey);
        var body = $$"""{"prospect_ids":[{{string.Join(",", prospects.Select(p => $"\"{p}\""))}}],"event_types":["prospect_changed_company"],"timestamp_from":"2020-01-01"}""";
        var result = await (await client.PostJsonAsync(path, body)).ExpectAsync(200);
        return [.. result.GetProperty("output_events").EnumerateArray().Select(e => e.GetProperty("prospect_id").GetString()!).Order(StringComparer.Ordinal)];
    }

    private async Task<JsonElement> StatsAsync()
    {
        using var client = _server.Client(_server.AdminKey);
        return await (await client.GetAsync("/v1/admin/stats")).ExpectAsync(200);
    }

    private async Task<WebhookReceiver> ReceiverAsync(Func<ReceivedRequest, int, ReceiverAnswer>? behaviour = null)
    {
        var receiver = await WebhookReceiver.StartAsync(Convert.ToBase64String(new byte[32]));
        receiver.Clock = _server.Clock;
        if (behaviour is not null) receiver.Behaviour = behaviour;
        _receivers.Add(receiver);
        return receiver;
    }

    private static async Task EnrollAsync(HttpClient client, params string[] prospects) =>
        await (await client.PostJsonAsync(EnrollmentsPath,
            $$"""{"enrollment_key":"watch","event_types":["prospect_changed_company"],"prospect_ids":[{{string.Join(",", prospects.Select(p => $"\"{p}\""))}}]}""")).ExpectAsync(200);

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

    private static async Task<JsonElement> DeliveriesAsync(HttpClient client, string path) =>
        (await (await client.GetAsync(path)).ExpectAsync(200)).GetProperty("deliveries");

    [Fact]
    public async Task Events_past_the_retention_are_gone_from_v1_and_v2_fetch_and_from_the_store_and_newer_ones_stay()
    {
        await MoveAsync("Globex", Feed.Dana);
        _server.Clock.Advance(TimeSpan.FromDays(366));
        await MoveAsync("Initech", Feed.Eli);
        Assert.Equal([Feed.Dana, Feed.Eli], await FetchedProspectsAsync("/v1/prospects/events", Feed.Dana, Feed.Eli));

        var pass = await Retention(_server).RunDueAsync(CancellationToken.None);

        Assert.NotNull(pass);
        Assert.Equal(1, pass.Events);
        Assert.Equal(_server.Clock.GetUtcNow().AddDays(-365), pass.Cutoff);
        Assert.Equal([Feed.Eli], await FetchedProspectsAsync("/v1/prospects/events", Feed.Dana, Feed.Eli));
        Assert.Equal([Feed.Eli], await FetchedProspectsAsync("/v2/prospects/events", Feed.Dana, Feed.Eli));
        Assert.Equal(1, await CountAsync("events"));
        if (backend == Backend.Sqlite) Assert.Equal(1, await CountAsync("events_by_prospect_rows"));
        Assert.Equal(1, (await StatsAsync()).GetProperty("events").GetInt64());
    }

    [Fact]
    public async Task An_event_about_an_old_time_stays_for_the_retention_counted_from_its_detection()
    {
        // A backfill: snapshots of 2024 ingested today make an event whose event_time is long past the retention.
        await _server.IngestAsync(Feed.Lines(
            Feed.Line(Feed.Dana, "2024-01-01T00:00:00Z", "Acme"),
            Feed.Line(Feed.Dana, "2024-06-01T00:00:00Z", "Globex")));

        Assert.Equal(0, (await Retention(_server).RunDueAsync(CancellationToken.None))!.Events);
        Assert.Equal([Feed.Dana], await FetchedProspectsAsync("/v1/prospects/events", Feed.Dana));

        _server.Clock.Advance(TimeSpan.FromDays(366));
        Assert.Equal(1, (await Retention(_server).RunDueAsync(CancellationToken.None))!.Events);
        Assert.Empty(await FetchedProspectsAsync("/v1/prospects/events", Feed.Dana));
    }

    [Fact]
    public async Task Deliveries_go_with_their_events_and_those_no_webhook_took_are_counted_as_expired()
    {
        // Three partners watch Dana: one's webhook takes the event, one has no webhook, one's v2 webhook is disabled.
        var (taker, takerClient) = await _server.NewPartnerAsync("taker");
        var receiver = await ReceiverAsync();
        var registered = await (await takerClient.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{taker}}","webhook_url":"{{receiver.Url}}"}""")).ExpectAsync(200);
        receiver.SetSecret(registered.GetProperty("webhook_secret").GetString()!);
        await EnrollAsync(takerClient, Feed.Dana);
        var (_, silentClient) = await _server.NewPartnerAsync("silent");
        await EnrollAsync(silentClient, Feed.Dana);
        var (_, pausedClient) = await _server.NewPartnerAsync("paused");
        var hook = await (await pausedClient.PostJsonAsync("/v2/webhooks", $$"""{"name":"main","webhook_url":"{{(await ReceiverAsync()).Url}}"}""")).ExpectAsync(201);
        var hookId = hook.GetProperty("webhook_id").GetString()!;
        await (await pausedClient.PostJsonAsync("/v2/prospects/events/enrollments",
            $$"""{"enrollment_key":"watch","webhook_id":"{{hookId}}","event_types":["prospect_changed_company"],"prospect_ids":["{{Feed.Dana}}"]}""")).ExpectAsync(201);
        await (await pausedClient.SendJsonAsync(HttpMethod.Patch, $"/v2/webhooks/{hookId}", """{"status":"disabled"}""")).ExpectAsync(200);

        await MoveAsync("Globex", Feed.Dana);
        await EventuallyAsync(() => DeliveriesAsync(takerClient, $"/v1/webhooks/{taker}/deliveries"),
            d => d.EnumerateArray().Any(x => x.GetProperty("status").GetString() == "delivered"), "the delivery to arrive");
        Assert.Equal(2, (await StatsAsync()).GetProperty("pending_deliveries").GetInt64());
        Assert.Equal(1, await CountAsync("delivery_attempts"));

        _server.Clock.Advance(TimeSpan.FromDays(366));
        var pass = await Retention(_server).RunDueAsync(CancellationToken.None);

        Assert.Equal((1L, 3L, 2L), (pass!.Events, pass.Deliveries, pass.Expired));
        Assert.Equal(0, await CountAsync("deliveries"));
        Assert.Equal(0, await CountAsync("delivery_attempts"));
        Assert.Equal(0, (await DeliveriesAsync(takerClient, $"/v1/webhooks/{taker}/deliveries")).GetArrayLength());
        Assert.Equal(0, (await DeliveriesAsync(pausedClient, $"/v2/webhooks/{hookId}/deliveries")).GetArrayLength());
        var stats = await StatsAsync();
        Assert.Equal(0, stats.GetProperty("pending_deliveries").GetInt64());
        var retention = stats.GetProperty("retention");
        Assert.Equal(365, retention.GetProperty("retention_days").GetInt32());
        var latest = retention.GetProperty("latest_pass");
        Assert.Equal((1L, 3L, 2L), (latest.GetProperty("events_deleted").GetInt64(), latest.GetProperty("deliveries_deleted").GetInt64(),
            latest.GetProperty("deliveries_expired").GetInt64()));
        Assert.Equal(JsonValueKind.String, latest.GetProperty("finished_at").ValueKind);
    }

    [Fact]
    public async Task An_event_whose_delivery_is_still_retried_outlives_the_retention_until_the_delivery_ends()
    {
        await _server.DisposeAsync(); // a server of this test's own settings, with the only dispatcher
        _server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?>(NoScheduler)
        {
            ["Events:RetentionDays"] = "1",
            ["Webhooks:RetrySchedule"] = "0s,2d",
            ["Webhooks:Timeout"] = "00:00:01",
        });
        var (partner, client) = await _server.NewPartnerAsync();
        var receiver = await ReceiverAsync((_, _) => new ReceiverAnswer(500));
        var registered = await (await client.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{partner}}","webhook_url":"{{receiver.Url}}"}""")).ExpectAsync(200);
        receiver.SetSecret(registered.GetProperty("webhook_secret").GetString()!);
        await EnrollAsync(client, Feed.Dana);
        await MoveAsync("Globex", Feed.Dana);
        await EventuallyAsync(() => DeliveriesAsync(client, $"/v1/webhooks/{partner}/deliveries"),
            d => d.EnumerateArray().Any(x => x.GetProperty("attempts").GetInt32() == 1), "the first attempt to fail");

        _server.Clock.Advance(TimeSpan.FromDays(1.5)); // past the retention; the next attempt is due in 1.6 to 2.4 days
        Assert.Equal(0, (await Retention(_server).RunDueAsync(CancellationToken.None))!.Events);
        Assert.Equal([Feed.Dana], await FetchedProspectsAsync("/v1/prospects/events", Feed.Dana));

        _server.Clock.Advance(TimeSpan.FromDays(1)); // the last attempt falls due, fails, and ends the delivery
        await EventuallyAsync(() => DeliveriesAsync(client, $"/v1/webhooks/{partner}/deliveries"),
            d => d.EnumerateArray().Any(x => x.GetProperty("status").GetString() == "failed"), "the delivery to fail");
        var pass = await Retention(_server).RunDueAsync(CancellationToken.None);
        Assert.Equal((1L, 1L, 0L), (pass!.Events, pass.Deliveries, pass.Expired));
    }

    [Fact]
    public async Task A_pass_run_by_two_hosts_at_once_deletes_each_event_once()
    {
        await _server.IngestAsync(Feed.TwoSnapshots(1_200, 1)); // more than two batches of events
        Assert.Equal(1_200, await CountAsync("events"));
        await using var beside = await ServerUnderTest.StartBesideAsync(_server, NoScheduler);
        _server.Clock.Advance(TimeSpan.FromDays(400));

        var passes = await Task.WhenAll(Retention(_server).RunDueAsync(CancellationToken.None), Retention(beside).RunDueAsync(CancellationToken.None));

        var pass = Assert.Single(passes, p => p is not null);
        Assert.Equal(1_200, pass!.Events);
        Assert.Equal(0, await CountAsync("events"));
        // These ids share one key prefix and their events one minute, so most fetch rows went past their full bucket.
        if (backend == Backend.Sqlite) Assert.Equal(0, await CountAsync("events_by_prospect_rows"));
        Assert.Equal(1, await CountAsync("retention_passes"));
        Assert.Null(await Retention(beside).RunDueAsync(CancellationToken.None)); // the next is due a day later
        _server.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, (await Retention(beside).RunDueAsync(CancellationToken.None))!.Events);
    }

    [Fact]
    public async Task A_pass_that_stopped_moving_is_taken_over_and_a_running_one_is_not()
    {
        var cutoff = _server.Clock.GetUtcNow().AddDays(-365);
        Assert.NotNull(await _server.Store.StartRetentionPassAsync(_server.Clock.GetUtcNow(), cutoff, EventRetention.Interval, EventRetention.Stalled, CancellationToken.None));
        await MoveAsync("Globex", Feed.Dana);
        _server.Clock.Advance(TimeSpan.FromDays(366));
        // The pass above never finished; one that moved a minute ago is running, and is left to it.
        await _server.SqlAsync($"UPDATE retention_passes SET progressed_at = {_server.Clock.GetUtcNow().AddMinutes(-1).ToUnixTimeMilliseconds()}");
        Assert.Null(await Retention(_server).RunDueAsync(CancellationToken.None));

        _server.Clock.Advance(EventRetention.Stalled);
        Assert.Equal(1, (await Retention(_server).RunDueAsync(CancellationToken.None))!.Events);
    }

    [Fact]
    public async Task A_shorter_retention_is_due_at_once_and_zero_keeps_events_for_good()
    {
        await MoveAsync("Globex", Feed.Dana);
        _server.Clock.Advance(TimeSpan.FromDays(40));
        Assert.Equal(0, (await Retention(_server).RunDueAsync(CancellationToken.None))!.Events);
        Assert.Null(await Retention(_server).RunDueAsync(CancellationToken.None)); // the next is due in a day
        await using (var forever = await ServerUnderTest.StartBesideAsync(_server, new Dictionary<string, string?>(NoScheduler) { ["Events:RetentionDays"] = "0" }))
        {
            Assert.Null(await Retention(forever).RunDueAsync(CancellationToken.None));
            Assert.Equal(1, await CountAsync("events"));
        }

        await using var shorter = await ServerUnderTest.StartBesideAsync(_server, new Dictionary<string, string?>(NoScheduler) { ["Events:RetentionDays"] = "30" });
        Assert.Equal(1, (await Retention(shorter).RunDueAsync(CancellationToken.None))!.Events);
        Assert.Equal(0, await CountAsync("events"));
    }

    [Fact]
    public async Task The_job_runs_at_start_in_a_process_with_the_scheduler_role_and_not_in_one_without()
    {
        await MoveAsync("Globex", Feed.Dana);
        _server.Clock.Advance(TimeSpan.FromDays(366));
        Assert.DoesNotContain(_server.Services.GetServices<IHostedService>(), s => s is EventRetention);
        await using var apiOnly = await ServerUnderTest.StartBesideAsync(_server, new Dictionary<string, string?> { ["Roles"] = "api" });
        Assert.DoesNotContain(apiOnly.Services.GetServices<IHostedService>(), s => s is EventRetention);
        Assert.Equal(1, await CountAsync("events"));

        await using var scheduler = await ServerUnderTest.StartBesideAsync(_server, new Dictionary<string, string?> { ["Roles"] = "api,scheduler" });

        Assert.Contains(scheduler.Services.GetServices<IHostedService>(), s => s is EventRetention);
        var stats = await EventuallyAsync(StatsAsync, s => s.GetProperty("retention").GetProperty("latest_pass") is { ValueKind: JsonValueKind.Object } p
            && p.GetProperty("finished_at").ValueKind == JsonValueKind.String, "the pass at start to finish");
        Assert.Equal(1, stats.GetProperty("retention").GetProperty("latest_pass").GetProperty("events_deleted").GetInt64());
        Assert.Equal(0, await CountAsync("events"));
    }
}

public sealed class SqliteRetentionTests() : RetentionContract(Backend.Sqlite);

public sealed class PostgresRetentionTests() : RetentionContract(Backend.Postgres);

/// <summary><c>Events:RetentionDays</c> is validated with the other settings: a bad value stops serve before it touches the database.</summary>
public sealed class RetentionSettingsTests
{
    [Theory]
    [InlineData("-1")]
    [InlineData("36501")]
    [InlineData("a year")]
    [InlineData("1.5")]
    public async Task A_bad_retention_stops_serve_with_exit_two_and_names_the_key(string value)
    {
        var database = Path.Combine(Path.GetTempPath(), "prospect-events-tests", Guid.NewGuid().ToString("N"), "test.db");

        var (exit, _, error) = await ServerUnderTest.RunVerbAsync(
            ["serve", "--urls", "http://127.0.0.1:0", $"--Storage:ConnectionString=Data Source={database}", $"--Events:RetentionDays={value}"]);

        Assert.Equal(2, exit);
        Assert.Contains("Events:RetentionDays", error);
        Assert.False(File.Exists(database), "the database was created");
    }
}
