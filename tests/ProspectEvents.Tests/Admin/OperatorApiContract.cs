using System.Text.Json;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Admin;

/// <summary>
/// The admin reads behind the operator page (docs/api.md, Operator API) and the admin replay, against the data of
/// <see cref="OperatorScenario"/>, once per backend.
/// </summary>
public abstract class OperatorApiContract(Backend backend) : IAsyncLifetime
{
    private OperatorScenario _scenario = null!;

    public async Task InitializeAsync() => _scenario = await OperatorScenario.StartAsync(backend);

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private async Task<JsonElement> GetAsync(string path, int status = 200)
    {
        using var admin = _scenario.Admin();
        return await (await admin.GetAsync(path)).ExpectAsync(status);
    }

    [Fact]
    public async Task Events_per_day_has_one_entry_per_utc_day_with_zeros_for_quiet_days()
    {
        var result = await GetAsync("/v1/admin/stats/events_per_day");
        Assert.Equal(30, result.GetProperty("days").GetInt32());
        Assert.Equal("2026-10-04", result.GetProperty("from").GetString());
        Assert.Equal("2026-11-02", result.GetProperty("to").GetString());
        var days = result.GetProperty("per_day").EnumerateArray().ToList();
        Assert.Equal(30, days.Count);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => new DateOnly(2026, 10, 4).AddDays(i).ToString("yyyy-MM-dd")), days.Select(d => d.GetProperty("date").GetString()));
        var november1 = days[^2];
        Assert.Equal(2, november1.GetProperty("total").GetInt64());
        Assert.Equal(1, november1.GetProperty("counts").GetProperty("prospect_changed_company").GetInt64());
        Assert.Equal(1, november1.GetProperty("counts").GetProperty("prospect_changed_role").GetInt64());
        Assert.Equal(0, november1.GetProperty("counts").GetProperty("prospect_job_start_anniversary").GetInt64());
        Assert.Equal(1, days[^1].GetProperty("counts").GetProperty("prospect_changed_company").GetInt64());
        Assert.All(days[..^2], d => Assert.Equal(0, d.GetProperty("total").GetInt64()));
        Assert.Equal(["prospect_changed_role", "prospect_changed_company", "prospect_job_start_anniversary"], result.GetProperty("event_types").Strings());

        var week = await GetAsync("/v1/admin/stats/events_per_day?days=1");
        Assert.Equal("2026-11-02", Assert.Single(week.GetProperty("per_day").EnumerateArray()).GetProperty("date").GetString());
        Assert.Equal(366, (await GetAsync("/v1/admin/stats/events_per_day?days=366")).GetProperty("per_day").GetArrayLength());
    }

    public static readonly TheoryData<string, string> BadQueries = new()
    {
        { "/v1/admin/stats/events_per_day?days=0", "days" },
        { "/v1/admin/stats/events_per_day?days=367", "days" },
        { "/v1/admin/stats/events_per_day?days=week", "days" },
        { "/v1/admin/stats/events_per_day?days=", "days" },
        { "/v1/admin/ingests?limit=0", "limit" },
        { "/v1/admin/ingests?limit=1001", "limit" },
        { "/v1/admin/ingests?limit=1.5", "limit" },
        { "/v1/admin/deliveries/failed?limit=-1", "limit" },
        { "/v1/admin/deliveries/failed?limit=99999999999999999999", "limit" },
    };

    [Fact]
    public async Task Bad_query_values_are_422_naming_the_parameter()
    {
        foreach (var (path, parameter) in BadQueries.Select(row => ((string)row[0], (string)row[1])))
        {
            var body = await GetAsync(path, 422);
            var problem = Assert.Single(body.GetProperty("detail").EnumerateArray());
            Assert.Equal(["query", parameter], problem.GetProperty("loc").Strings());
        }
    }

    [Fact]
    public async Task The_operator_reads_and_the_replay_need_an_admin_key()
    {
        var (_, partner) = await _scenario.Server.NewPartnerAsync("nosy");
        using var anonymous = _scenario.Server.Client(null);
        foreach (var (method, path) in new[]
                 {
                     ("GET", "/v1/admin/stats/events_per_day"), ("GET", "/v1/admin/ingests"), ("GET", "/v1/admin/webhooks/health"),
                     ("GET", "/v1/admin/deliveries/failed"), ("POST", "/v1/admin/deliveries/msg_000000000000000000000000/retry"),
                 })
        {
            await (await partner.SendAsync(new HttpRequestMessage(new HttpMethod(method), path))).ExpectAsync(403);
            await (await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(method), path))).ExpectAsync(401);
        }
    }

    [Fact]
    public async Task Recent_ingests_list_both_sources_newest_first_with_their_counts()
    {
        var ingests = (await GetAsync("/v1/admin/ingests")).GetProperty("ingests").EnumerateArray().ToList();
        Assert.Equal(["cli", "http", "http", "http"], ingests.Select(i => i.GetProperty("source").GetString()));
        Assert.Equal([1L, 1L, 2L, 2L], ingests.Select(i => i.GetProperty("observations").GetInt64()));
        Assert.Equal([0L, 1L, 2L, 0L], ingests.Select(i => i.GetProperty("events").GetInt64()));
        Assert.Equal(1, ingests[0].GetProperty("stale").GetInt64()); // the verb's line repeats what is known
        var http = ingests[1];
        Assert.Equal("2026-11-02T08:00:00+00:00", http.GetProperty("started_at").GetString());
        Assert.True(http.GetProperty("seconds").GetDouble() >= 0);
        Assert.True(http.GetProperty("lines_per_second").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Null, http.GetProperty("error").ValueKind);
        Assert.Equal(2, (await GetAsync("/v1/admin/ingests?limit=2")).GetProperty("ingests").GetArrayLength());
    }

    [Fact]
    public async Task A_broken_ingest_is_recorded_with_its_error()
    {
        var gzip = new MemoryStream();
        using (var zip = new System.IO.Compression.GZipStream(gzip, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            zip.Write(System.Text.Encoding.UTF8.GetBytes(Feed.Lines(Feed.Line(Feed.Id(9), "2026-11-01T00:00:00Z", "Acme"))));
        using var admin = _scenario.Admin();
        var truncated = new ByteArrayContent(gzip.ToArray()[..^6]);
        await (await admin.PostAsync("/v1/admin/observations", truncated)).ExpectAsync(422);
        var latest = (await GetAsync("/v1/admin/ingests?limit=1")).GetProperty("ingests")[0];
        Assert.Equal("http", latest.GetProperty("source").GetString());
        Assert.Contains("gzip", latest.GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Only_the_latest_thousand_ingest_runs_are_kept()
    {
        var at = _scenario.Server.Clock.GetUtcNow();
        for (var i = 0; i < Store.KeptIngestRuns + 5; i++)
            await _scenario.Server.Store.RecordIngestRunAsync(new Store.IngestRunRecord("cli", at, at, i, 0, 0, 0, 0.5, null), CancellationToken.None);
        Assert.Equal((long)Store.KeptIngestRuns, Convert.ToInt64(await _scenario.Server.SqlAsync("SELECT COUNT(*) FROM ingest_runs")));
        var kept = (await GetAsync("/v1/admin/ingests?limit=1000")).GetProperty("ingests").EnumerateArray().Select(r => r.GetProperty("observations").GetInt64()).ToList();
        Assert.Equal(Store.KeptIngestRuns + 4L, kept[0]);
        Assert.Equal(5L, kept[^1]);
    }

    [Fact]
    public async Task Webhook_health_counts_each_webhooks_attempts_over_the_last_hour_and_day()
    {
        var webhooks = (await GetAsync("/v1/admin/webhooks/health")).GetProperty("webhooks").EnumerateArray().ToList();
        var acme = webhooks.Single(w => w.GetProperty("partner_id").GetString() == _scenario.AcmeId && w.GetProperty("legacy").GetBoolean());
        Assert.Equal("acme", acme.GetProperty("partner_name").GetString());
        Assert.Equal(_scenario.Failing.Url, acme.GetProperty("webhook_url").GetString());
        Assert.Equal(OperatorScenario.FailedDeliveries, acme.GetProperty("failed").GetInt64());
        Assert.Equal(0, acme.GetProperty("pending").GetInt64());
        Assert.Equal(JsonValueKind.Null, acme.GetProperty("oldest_pending_age_seconds").ValueKind);
        Assert.Equal((0L, 1L), Window(acme, "last_hour"));
        Assert.Equal((0L, 3L), Window(acme, "last_day"));
        Assert.True(acme.GetProperty("last_day").GetProperty("p95_latency_ms").GetInt64() >= 0);
        Assert.Equal("2026-11-01T23:30:00+00:00", acme.GetProperty("failing_since").GetString());
        Assert.Equal("enabled", acme.GetProperty("status").GetString());

        var globex = webhooks.Single(w => w.GetProperty("webhook_id").GetString() == _scenario.GlobexWebhookId);
        Assert.False(globex.GetProperty("legacy").GetBoolean());
        Assert.Equal("crm", globex.GetProperty("name").GetString());
        Assert.Equal((1L, 0L), Window(globex, "last_hour"));
        Assert.Equal((2L, 0L), Window(globex, "last_day"));
        // globex registered no v1 webhook: its legacy row is no webhook, and is not listed.
        Assert.DoesNotContain(webhooks, w => w.GetProperty("partner_id").GetString() == _scenario.GlobexId && w.GetProperty("legacy").GetBoolean());

        _scenario.Server.Clock.Advance(TimeSpan.FromDays(1.5));
        var later = (await GetAsync("/v1/admin/webhooks/health")).GetProperty("webhooks").EnumerateArray()
            .Single(w => w.GetProperty("webhook_id").GetString() == _scenario.GlobexWebhookId);
        Assert.Equal((0L, 0L), Window(later, "last_day"));
        Assert.Equal(JsonValueKind.Null, later.GetProperty("last_day").GetProperty("p95_latency_ms").ValueKind);
    }

    private static (long Delivered, long Failed) Window(JsonElement webhook, string window) =>
        (webhook.GetProperty(window).GetProperty("delivered").GetInt64(), webhook.GetProperty(window).GetProperty("failed").GetInt64());

    [Fact]
    public async Task Webhook_health_says_why_a_webhook_was_disabled_and_how_long_its_deliveries_wait()
    {
        _scenario.Failing.Behaviour = (_, _) => new ReceiverAnswer(410);
        using var admin = _scenario.Admin();
        var failed = (await GetAsync("/v1/admin/deliveries/failed")).GetProperty("deliveries")[0].GetProperty("delivery_id").GetString();
        await (await admin.PostAsync($"/v1/admin/deliveries/{failed}/retry", null)).ExpectAsync(200);
        var acme = await _scenario.WaitForAsync(async a => (await (await a.GetAsync("/v1/admin/webhooks/health")).ExpectAsync(200)).GetProperty("webhooks")
                .EnumerateArray().Single(w => w.GetProperty("partner_id").GetString() == _scenario.AcmeId),
            w => w.GetProperty("status").GetString() == "disabled", "the 410 to disable acme's webhook");
        Assert.Contains("410", acme.GetProperty("disabled_reason").GetString());

        // A disabled webhook's deliveries wait: replayed now, this one is due and waits while the clock runs.
        await (await admin.PostAsync($"/v1/admin/deliveries/{failed}/retry", null)).ExpectAsync(200);
        _scenario.Server.Clock.Advance(TimeSpan.FromMinutes(2));
        var waiting = (await GetAsync("/v1/admin/webhooks/health")).GetProperty("webhooks").EnumerateArray().Single(w => w.GetProperty("partner_id").GetString() == _scenario.AcmeId);
        Assert.Equal(1, waiting.GetProperty("pending").GetInt64());
        Assert.Equal(120, waiting.GetProperty("oldest_pending_age_seconds").GetDouble());
    }

    [Fact]
    public async Task Failed_deliveries_name_partner_webhook_event_and_last_error_latest_first()
    {
        var failed = (await GetAsync("/v1/admin/deliveries/failed")).GetProperty("deliveries").EnumerateArray().ToList();
        Assert.Equal(OperatorScenario.FailedDeliveries, failed.Count);
        Assert.All(failed, d =>
        {
            Assert.Equal(_scenario.AcmeId, d.GetProperty("partner_id").GetString());
            Assert.Equal("acme", d.GetProperty("partner_name").GetString());
            Assert.Equal("v1", d.GetProperty("webhook_name").GetString());
            Assert.Equal(500, d.GetProperty("last_status_code").GetInt32());
            Assert.Equal("HTTP 500", d.GetProperty("last_error").GetString());
            Assert.Equal(1, d.GetProperty("attempts").GetInt32());
            Assert.Equal("movers", d.GetProperty("enrollment_key").GetString());
        });
        Assert.Equal(Feed.Dana, failed[0].GetProperty("prospect_id").GetString());
        Assert.Equal("2026-11-02T08:00:00+00:00", failed[0].GetProperty("failed_at").GetString());
        Assert.Equal("prospect_changed_company", failed[0].GetProperty("event_name").GetString());
        Assert.Single((await GetAsync("/v1/admin/deliveries/failed?limit=1")).GetProperty("deliveries").EnumerateArray());
    }

    [Fact]
    public async Task The_admin_replay_sends_any_partners_failed_delivery_again()
    {
        var failed = (await GetAsync("/v1/admin/deliveries/failed")).GetProperty("deliveries")[0];
        var deliveryId = failed.GetProperty("delivery_id").GetString()!;
        _scenario.Failing.Behaviour = (_, _) => ReceiverAnswer.Ok;
        using var admin = _scenario.Admin();
        var replayed = await (await admin.PostAsync($"/v1/admin/deliveries/{deliveryId}/retry", null)).ExpectAsync(200);
        Assert.Equal(deliveryId, replayed.GetProperty("delivery").GetProperty("delivery_id").GetString());

        var eventId = failed.GetProperty("event_id").GetString()!;
        await _scenario.Failing.WaitForAsync(r => r.Any(x => x.AnsweredStatus == 200 && x.BodyText.Contains(eventId, StringComparison.Ordinal)), TimeSpan.FromSeconds(20));
        await _scenario.SettleAsync(OperatorScenario.FailedDeliveries - 1);
        Assert.DoesNotContain((await GetAsync("/v1/admin/deliveries/failed")).GetProperty("deliveries").EnumerateArray(),
            d => d.GetProperty("delivery_id").GetString() == deliveryId);
    }

    [Fact]
    public async Task The_admin_replay_of_an_unknown_delivery_is_404()
    {
        using var admin = _scenario.Admin();
        var body = await (await admin.PostAsync("/v1/admin/deliveries/msg_000000000000000000000000/retry", null)).ExpectAsync(404);
        Assert.Contains("msg_000000000000000000000000", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task The_stats_counts_are_the_scenarios()
    {
        var stats = await GetAsync("/v1/admin/stats");
        Assert.Equal(3, stats.GetProperty("partners").GetInt64()); // default, acme, globex
        Assert.Equal(2, stats.GetProperty("enrollments").GetInt64());
        Assert.Equal(3, stats.GetProperty("monitored_prospects").GetInt64());
        Assert.Equal(3, stats.GetProperty("events").GetInt64());
    }
}

public sealed class SqliteOperatorApiTests() : OperatorApiContract(Backend.Sqlite);

public sealed class PostgresOperatorApiTests() : OperatorApiContract(Backend.Postgres);
