using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using ProspectEvents.Server.Hosting;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Hosting;

/// <summary>
/// The process registry and rolling-upgrade safety: every <c>serve</c> process is listed while it beats; a process
/// whose build is older than the schema stops its ingest and scheduled jobs and says so (log, <c>/readyz</c> 503,
/// ingest 503), a newer one beside it logs which older processes it sees, and no ingest or scheduled job of an older
/// build commits once the schema has moved past it. An older build is simulated with <c>Internal:ClaimSchemaVersion</c>,
/// or a newer one by a migration row it does not know. Once per backend, over real HTTP.
/// </summary>
public abstract class ProcessRegistryContract(Backend backend)
{
    private static readonly Dictionary<string, string?> FastBeats = new() { ["Processes:HeartbeatInterval"] = "00:00:00.100" };

    private static Dictionary<string, string?> Older(string? roles = null)
    {
        var settings = new Dictionary<string, string?>(FastBeats) { [ServerApp.ClaimSchemaVersionKey] = "12" };
        if (roles is not null) settings["Roles"] = roles;
        return settings;
    }

    private static long Long(object? value) => Convert.ToInt64(value, CultureInfo.InvariantCulture);

    [Fact]
    public async Task TheProcessesEndpointListsEveryLiveProcessWithItsRolesAndVersions()
    {
        await using var first = await ServerUnderTest.StartAsync(backend, FastBeats);
        await using var second = await ServerUnderTest.StartBesideAsync(first, new Dictionary<string, string?>(FastBeats) { ["Roles"] = "dispatcher" });

        var list = await (await first.Client(first.AdminKey).GetAsync("/v1/admin/processes")).ExpectAsync(200);

        var known = first.Store.KnownSchemaVersion;
        Assert.Equal(known, list.GetProperty("schema_version").GetInt32());
        var processes = list.GetProperty("processes").EnumerateArray().ToList();
        Assert.Equal(2, processes.Count);
        var answering = Assert.Single(processes, p => p.GetProperty("process_id").GetString() == list.GetProperty("this_process_id").GetString());
        Assert.Equal(["api", "ingest", "dispatcher", "scheduler"], answering.GetProperty("roles").Strings());
        Assert.Single(processes, p => p.GetProperty("roles").Strings() is ["dispatcher"]);
        Assert.All(processes, p =>
        {
            Assert.Equal(known, p.GetProperty("schema_version").GetInt32());
            Assert.Equal(ProspectEvents.Detection.Fingerprint.Version, p.GetProperty("fingerprint_version").GetInt32());
            Assert.Equal("running", p.GetProperty("state").GetString());
            Assert.Equal(Environment.ProcessId, p.GetProperty("pid").GetInt32());
            Assert.Equal(Environment.MachineName, p.GetProperty("host").GetString());
            Assert.InRange(p.GetProperty("heartbeat_age_seconds").GetDouble(), 0, 1);
        });
    }

    [Fact]
    public async Task AProcessLeavesTheListWhenItStopsAndAStaleRowIsNotListed()
    {
        await using var first = await ServerUnderTest.StartAsync(backend, FastBeats);
        await using var second = await ServerUnderTest.StartBesideAsync(first, FastBeats);
        using var admin = first.Client(first.AdminKey);
        Assert.Equal(2, (await Processes(admin)).Count);

        await second.StopAsync();
        Assert.Single(await Processes(admin));

        // A process killed without a clean stop: its row stays, but its beat is three intervals old.
        var stale = ServerUnderTest.ClockStart.ToUnixTimeMilliseconds() - 301;
        await first.SqlAsync($"""
            INSERT INTO processes (process_id, host, pid, roles, build, schema_version, fingerprint_version, state, started_at, heartbeat_at, heartbeat_ms)
            VALUES ('pr_killed', 'gone', 1, 'ingest', 'old', 13, 2, 'running', {stale}, {stale}, 100)
            """);
        Assert.DoesNotContain("pr_killed", (await Processes(admin)).Select(p => p.GetProperty("process_id").GetString()));
    }

    [Fact]
    public async Task AnOlderProcessBesideANewerSchemaStopsIngestAndSchedulingAndSaysWhy()
    {
        var newerLogs = new LogCapture();
        await using var newer = await ServerUnderTest.StartAsync(backend, FastBeats, b => b.Logging.AddProvider(newerLogs));
        var olderLogs = new LogCapture();
        await using var older = await StartBesideWithLogsAsync(newer, Older(), olderLogs);

        var ready = await (await older.Client(null).GetAsync("/readyz")).ExpectAsync(503);
        Assert.Equal("outdated", ready.GetProperty("status").GetString());
        Assert.Contains($"migration {newer.Store.KnownSchemaVersion:0000}, newer than this build knows (0012)", ready.GetProperty("reason").GetString());
        Assert.Contains(olderLogs.Drain(), e => e.EventId.Id == 170 && e.Level == LogLevel.Warning);

        var refused = await older.IngestAsync(Feed.Lines(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme")), status: 503);
        Assert.Contains("newer than this build knows", refused.GetProperty("detail").GetString());
        Assert.Equal(0L, Long(await older.SqlAsync("SELECT COUNT(*) FROM observation_log")));

        var processes = await Processes(newer.Client(newer.AdminKey));
        var olderRow = Assert.Single(processes, p => p.GetProperty("schema_version").GetInt32() == 12);
        Assert.Equal("outdated", olderRow.GetProperty("state").GetString());

        // The newer process heard of it at its next beat, and says what happens.
        var said = await WaitForAsync(newerLogs, 171);
        Assert.Contains(olderRow.GetProperty("process_id").GetString()!, said.Message);
        Assert.Contains("has stopped its ingest and scheduled jobs", said.Message);
        Assert.Equal("ready", (await (await newer.Client(null).GetAsync("/readyz")).ExpectAsync(200)).GetProperty("status").GetString());
        await newer.IngestAsync(Feed.Lines(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme")));
    }

    [Fact]
    public async Task AnOlderApiAndDispatcherProcessStaysReadySinceItStoppedNothing()
    {
        await using var newer = await ServerUnderTest.StartAsync(backend, FastBeats);
        await using var older = await ServerUnderTest.StartBesideAsync(newer, Older("api,dispatcher"));

        var ready = await (await older.Client(null).GetAsync("/readyz")).ExpectAsync(200);

        Assert.Equal("ready", ready.GetProperty("status").GetString());
        Assert.Contains("newer than this build knows", ready.GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.OK, (await older.Client(newer.AdminKey).GetAsync("/v1/admin/stats")).StatusCode);
    }

    [Fact]
    public async Task ARunningProcessStandsDownOnceANewerBuildMigratesAndCommitsNoIngestMeanwhile()
    {
        await using var server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?> { ["Processes:HeartbeatInterval"] = "01:00:00" });
        await server.IngestAsync(Feed.Lines(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme")));
        var logRows = Long(await server.SqlAsync("SELECT COUNT(*) FROM observation_log"));

        await NewerBuildMigratesAsync(server);

        // Before its next beat the process does not know yet, but its batch does: it checks under the ingest lock.
        var refused = await server.IngestAsync(Feed.Lines(Feed.Line(Feed.Dana, "2026-10-20T00:00:00Z", "Globex")), status: 503);
        Assert.Contains("migration 9999", refused.GetProperty("detail").GetString());
        Assert.Equal(logRows, Long(await server.SqlAsync("SELECT COUNT(*) FROM observation_log")));
        Assert.Equal(0L, Long(await server.SqlAsync("SELECT COUNT(*) FROM events")));
        // The scheduled jobs refuse the same way.
        await Assert.ThrowsAsync<NewerSchemaException>(() => server.Store.SweepAnniversariesAsync(new DateOnly(2026, 11, 1), server.Clock.GetUtcNow(), CancellationToken.None));
        await Assert.ThrowsAsync<NewerSchemaException>(() => server.Store.IndexEnrollmentsAsync(25, CancellationToken.None));
    }

    [Fact]
    public async Task ARunningProcessReportsOutdatedAtItsNextBeatAfterANewerBuildMigrates()
    {
        var logs = new LogCapture();
        await using var server = await ServerUnderTest.StartAsync(backend, FastBeats, b => b.Logging.AddProvider(logs));
        await (await server.Client(null).GetAsync("/readyz")).ExpectAsync(200);

        await NewerBuildMigratesAsync(server);

        await WaitForAsync(logs, 170);
        var ready = await (await server.Client(null).GetAsync("/readyz")).ExpectAsync(503);
        Assert.Contains("migration 9999", ready.GetProperty("reason").GetString());
        var refused = await server.IngestAsync(Feed.Lines(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme")), status: 503);
        Assert.Contains("migration 9999", refused.GetProperty("detail").GetString());
        // Standing down is not an error: no worker fails its passes over it.
        Assert.DoesNotContain(logs.Drain(), e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task TheIngestVerbOfAnOlderBuildRefusesTheDatabaseWithAMessageAndExitTwo()
    {
        await using var server = await ServerUnderTest.StartAsync(backend);
        await NewerBuildMigratesAsync(server);
        var path = Path.Combine(Path.GetTempPath(), $"feed-{Guid.NewGuid():N}.ndjson");
        await File.WriteAllTextAsync(path, Feed.Lines(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme")));

        var (exit, _, error) = await server.IngestWithVerbAsync(path);

        Assert.Equal(2, exit);
        Assert.Contains("newer than this build knows", error);
        Assert.DoesNotContain("   at ", error);
        Assert.Equal(0L, Long(await server.SqlAsync("SELECT COUNT(*) FROM observation_log")));
    }

    /// <summary>What a newer build's start does to the database, as far as this build can tell: a migration it does not know.</summary>
    private static Task NewerBuildMigratesAsync(ServerUnderTest server) =>
        server.SqlAsync("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_from_a_newer_build', 0)");

    private static async Task<List<System.Text.Json.JsonElement>> Processes(HttpClient admin) =>
        [.. (await (await admin.GetAsync("/v1/admin/processes")).ExpectAsync(200)).GetProperty("processes").EnumerateArray()];

    private static async Task<CapturedLog> WaitForAsync(LogCapture logs, int eventId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            if (logs.Drain().FirstOrDefault(e => e.EventId.Id == eventId) is { } found) return found;
            Assert.True(DateTime.UtcNow < deadline, $"no log entry {eventId} within 20 s");
            await Task.Delay(50);
        }
    }

    private static Task<ServerUnderTest> StartBesideWithLogsAsync(ServerUnderTest first, Dictionary<string, string?> settings, LogCapture logs) =>
        ServerUnderTest.StartBesideAsync(first, settings, b => b.Logging.AddProvider(logs));
}

public sealed class SqliteProcessRegistryTests() : ProcessRegistryContract(Backend.Sqlite);

public sealed class PostgresProcessRegistryTests() : ProcessRegistryContract(Backend.Postgres);
