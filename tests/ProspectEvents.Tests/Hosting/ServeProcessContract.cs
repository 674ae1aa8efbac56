using System.Net;
using System.Text.Json;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Hosting;

/// <summary>
/// The same promises with real <c>serve</c> processes of the executable: several started at once on an empty database
/// create one partner <c>default</c>; each is listed by <c>GET /v1/admin/processes</c> until it stops (SIGTERM) or
/// misses three beats (SIGKILL); an older build beside a newer one stops its ingest and says so, and the newer one logs
/// it. Once per backend.
/// </summary>
public abstract class ServeProcessContract(Backend backend)
{
    [Fact]
    public async Task ServeProcessesStartedAtOnceCreateOneDefaultPartnerAndAreListedUntilTheyStop()
    {
        var storage = await TestStorage.CreateAsync(backend);
        var servers = await ServerProcess.StartManyAsync(3, storage, Beats);
        await using var a = servers[0];
        await using var b = servers[1];
        await using var c = servers[2];

        var keys = servers.Select(p => p.PrintedAdminKey).OfType<string>().ToList();
        Assert.Single(keys);
        Assert.Equal(1L, await CountAsync(storage, "SELECT COUNT(*) FROM partners WHERE name = 'default'"));
        Assert.Equal(1L, await CountAsync(storage, "SELECT COUNT(*) FROM partners"));

        using var admin = a.Client(keys[0]);
        Assert.Equal(new[] { a.Id, b.Id, c.Id }.Order(), (await PidsAsync(admin)).Order());

        await b.StopAsync(); // a clean stop (SIGTERM) removes its row at once
        Assert.Equal(new[] { a.Id, c.Id }.Order(), (await PidsAsync(admin)).Order());

        await c.KillAsync(); // no clean stop: its row ages out after three missed beats
        await WaitUntilAsync(async () => (await PidsAsync(admin)).SequenceEqual([a.Id]), "the killed process was still listed");
    }

    [Fact]
    public async Task AnOlderServeProcessStopsItsIngestBesideANewerOneWhichLogsIt()
    {
        var storage = await TestStorage.CreateAsync(backend);
        await using var newer = await ServerProcess.StartAsync(storage, Beats);
        var key = newer.PrintedAdminKey!;
        await using var older = await ServerProcess.StartAsync(storage, new Dictionary<string, string?>(Beats) { ["Internal:ClaimSchemaVersion"] = "12" }, waitUntilReady: false);
        await older.WaitUntilReadyAsync(HttpStatusCode.ServiceUnavailable);

        using var probe = older.Client(null);
        var ready = JsonDocument.Parse(await (await probe.GetAsync("/readyz")).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("outdated", ready.GetProperty("status").GetString());
        Assert.Contains("newer than this build knows (12)", older.Output);
        using var olderAdmin = older.Client(key);
        var refused = await olderAdmin.PostAsync("/v1/admin/observations", new StringContent(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme") + "\n"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);

        await WaitUntilAsync(() => Task.FromResult(newer.Output.Contains($"(pid {older.Id}, roles api,ingest,dispatcher,scheduler) runs an older build", StringComparison.Ordinal)),
            "the newer process did not log the older one");
        using var newerAdmin = newer.Client(key);
        var listed = (await (await newerAdmin.GetAsync("/v1/admin/processes")).ExpectAsync(200)).GetProperty("processes").EnumerateArray()
            .Single(p => p.GetProperty("pid").GetInt32() == older.Id);
        Assert.Equal("outdated", listed.GetProperty("state").GetString());
        Assert.Equal(12, listed.GetProperty("schema_version").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await newerAdmin.PostAsync("/v1/admin/observations", new StringContent(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme") + "\n"))).StatusCode);
    }

    // Beats every 200 ms, so a killed process ages out of the registry within a second.
    private static readonly Dictionary<string, string?> Beats = new() { ["Processes:HeartbeatInterval"] = "00:00:00.200" };

    private static async Task<int[]> PidsAsync(HttpClient admin) =>
        [.. (await (await admin.GetAsync("/v1/admin/processes")).ExpectAsync(200)).GetProperty("processes").EnumerateArray().Select(p => p.GetProperty("pid").GetInt32())];

    private static async Task WaitUntilAsync(Func<Task<bool>> done, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await done())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(100);
        }
    }

    private static async Task<long> CountAsync(StorageOptions storage, string sql)
    {
        await using var store = Store.Create(storage);
        await using var connection = await store.OpenConnectionAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}

public sealed class SqliteServeProcessTests() : ServeProcessContract(Backend.Sqlite);

public sealed class PostgresServeProcessTests() : ServeProcessContract(Backend.Postgres);
