using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ProspectEvents.Server.Anniversaries;
using ProspectEvents.Server.Events;
using ProspectEvents.Server.Fanout;
using ProspectEvents.Server.Hosting;
using ProspectEvents.Server.Ingest;
using ProspectEvents.Server.Webhooks;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Hosting;

/// <summary>
/// <c>Roles</c> decides what a <c>serve</c> process really runs: without <c>api</c> it serves only health, metrics and
/// (with <c>ingest</c>) the ingest endpoint; without <c>ingest</c> it refuses ingest with a 503 naming the role; a
/// role's background workers run only where it is. Once per backend, over real HTTP.
/// </summary>
public abstract class RolesContract(Backend backend)
{
    private static Dictionary<string, string?> WithRoles(string roles) => new() { ["Roles"] = roles };

    [Fact]
    public async Task ReadyzReportsEveryRoleOfAProcessStartedWithoutRoles()
    {
        await using var server = await ServerUnderTest.StartAsync(backend);

        var ready = await (await server.Client(null).GetAsync("/readyz")).ExpectAsync(200);

        Assert.Equal("ready", ready.GetProperty("status").GetString());
        Assert.Equal(["api", "ingest", "dispatcher", "scheduler"], ready.GetProperty("roles").Strings());
        Assert.StartsWith("pr_", ready.GetProperty("process_id").GetString());
    }

    [Fact]
    public async Task ReadyzReportsOnlyTheRolesTheProcessWasGiven()
    {
        await using var server = await ServerUnderTest.StartAsync(backend, WithRoles("Scheduler, api"));

        var ready = await (await server.Client(null).GetAsync("/readyz")).ExpectAsync(200);

        Assert.Equal(["api", "scheduler"], ready.GetProperty("roles").Strings());
    }

    [Fact]
    public async Task AProcessWithoutTheApiRoleAnswersEveryApiRoute503NamingTheRole()
    {
        await using var first = await ServerUnderTest.StartAsync(backend);
        await using var worker = await ServerUnderTest.StartBesideAsync(first, WithRoles("dispatcher,scheduler"));
        using var admin = worker.Client(first.AdminKey);

        foreach (var (method, path) in new[]
        {
            ("POST", HttpJson.EnrollmentsPath), ("GET", HttpJson.EnrollmentsPath), ("POST", "/v1/prospects/events"), ("GET", "/v2/webhooks"),
            ("GET", "/v1/admin/stats"), ("GET", "/v1/admin/processes"), ("GET", "/docs"), ("GET", "/openapi/v1.json"), ("GET", "/dashboard"),
            ("GET", "/dashboard/dashboard.js"), ("GET", "/no/such/route"),
        })
        {
            var response = await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "POST" ? HttpJson.Body("{}") : null });
            var body = await response.ExpectAsync(503);
            Assert.Contains("api role", body.GetProperty("detail").GetString());
            Assert.Contains("Roles=dispatcher,scheduler", body.GetProperty("detail").GetString());
            Assert.Equal(response.Headers.GetValues("X-Correlation-ID").Single(), body.GetProperty("correlation_id").GetString());
        }
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/metrics")).StatusCode);
        // The API itself is whole on the process that runs it.
        Assert.Equal(HttpStatusCode.OK, (await first.Client(first.AdminKey).GetAsync("/v1/admin/stats")).StatusCode);
    }

    [Fact]
    public async Task AProcessWithoutTheIngestRoleRefusesObservations503AndTakesNothing()
    {
        await using var server = await ServerUnderTest.StartAsync(backend, WithRoles("api,dispatcher,scheduler"));

        var refused = await server.IngestAsync(Feed.Lines(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme")), status: 503);

        Assert.Contains("ingest role", refused.GetProperty("detail").GetString());
        Assert.Equal(32, refused.GetProperty("correlation_id").GetString()!.Length);
        Assert.Equal(0L, Convert.ToInt64(await server.SqlAsync("SELECT COUNT(*) FROM observation_log"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task AnIngestOnlyProcessTakesObservationsThatAnApiProcessThenServes()
    {
        await using var api = await ServerUnderTest.StartAsync(backend, WithRoles("api"));
        await using var ingest = await ServerUnderTest.StartBesideAsync(api, WithRoles("ingest"));

        await ingest.IngestAsync(Feed.Lines(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme")));
        var summary = await ingest.IngestAsync(Feed.Lines(Feed.Line(Feed.Dana, "2026-10-20T00:00:00Z", "Globex")));
        Assert.Equal(1, summary.GetProperty("events").GetInt64());

        using var partner = api.Client(api.AdminKey);
        var events = await (await partner.PostJsonAsync("/v1/prospects/events",
            $$"""{"prospect_ids":["{{Feed.Dana}}"],"event_types":["prospect_changed_company"],"timestamp_from":"2026-01-01"}""")).ExpectAsync(200);
        Assert.Single(events.GetProperty("output_events").EnumerateArray());
        // The API process does no ingest: it refuses it, as the ingest process refuses the API.
        await api.IngestAsync(Feed.Lines(Feed.Line(Feed.Eli, "2026-10-01T00:00:00Z", "Acme")), status: 503);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await ingest.Client(api.AdminKey).GetAsync("/v1/admin/stats")).StatusCode);
    }

    [Fact]
    public async Task IngestOnAProcessWithoutTheApiRoleStillNeedsAnAdminKey()
    {
        await using var first = await ServerUnderTest.StartAsync(backend);
        await using var ingest = await ServerUnderTest.StartBesideAsync(first, WithRoles("ingest"));
        var (_, partner) = await first.NewPartnerAsync();

        var response = await ingest.Client(null).PostAsync("/v1/admin/observations", HttpJson.Body(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme")));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var withPartnerKey = new HttpClient { BaseAddress = ingest.Address };
        withPartnerKey.DefaultRequestHeaders.Add("api_key", partner.DefaultRequestHeaders.GetValues("api_key").Single());
        Assert.Equal(HttpStatusCode.Forbidden, (await withPartnerKey.PostAsync("/v1/admin/observations", HttpJson.Body("{}"))).StatusCode);
    }

    [Fact]
    public async Task EachBackgroundWorkerRunsOnlyInAProcessWithItsRole()
    {
        await using var first = await ServerUnderTest.StartAsync(backend);
        await using var apiOnly = await ServerUnderTest.StartBesideAsync(first, WithRoles("api"));
        await using var ingestOnly = await ServerUnderTest.StartBesideAsync(first, WithRoles("ingest"));
        await using var schedulerOnly = await ServerUnderTest.StartBesideAsync(first, WithRoles("scheduler"));
        await using var dispatcherOnly = await ServerUnderTest.StartBesideAsync(first, WithRoles("dispatcher"));

        Assert.Equal([nameof(AnniversaryScheduler), nameof(DeliveryDispatcher), nameof(EnrollmentIndexer), nameof(EventRetention), nameof(IngestCacheRelease)], Workers(first));
        Assert.Empty(Workers(apiOnly));
        Assert.Equal([nameof(IngestCacheRelease)], Workers(ingestOnly));
        Assert.Equal([nameof(AnniversaryScheduler), nameof(EnrollmentIndexer), nameof(EventRetention)], Workers(schedulerOnly));
        Assert.Equal([nameof(DeliveryDispatcher)], Workers(dispatcherOnly));
    }

    /// <summary>The server's own background workers, by name, but the process registry every process runs.</summary>
    private static string[] Workers(ServerUnderTest server) =>
        [.. server.Services.GetServices<IHostedService>().Select(s => s.GetType())
            .Where(t => t.Namespace!.StartsWith("ProspectEvents.Server.", StringComparison.Ordinal) && t != typeof(ProcessRegistry))
            .Select(t => t.Name).Order(StringComparer.Ordinal)];
}

public sealed class SqliteRolesTests() : RolesContract(Backend.Sqlite);

public sealed class PostgresRolesTests() : RolesContract(Backend.Postgres);
