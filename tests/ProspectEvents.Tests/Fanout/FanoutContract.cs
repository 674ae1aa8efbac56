using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ProspectEvents.Server.Anniversaries;
using ProspectEvents.Server.Fanout;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Fanout;

/// <summary>
/// New events matched to the active enrollments that monitor them, seen through the admin stats, once per backend.
/// The clock starts at 2026-11-01 08:00 UTC.
/// </summary>
public abstract class FanoutContract(Backend backend) : IAsyncLifetime
{
    private ServerUnderTest _server = null!;

    // No background indexer or scheduler: each test decides when the index catches up.
    public async Task InitializeAsync() => _server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?> { ["Roles"] = "api,ingest" });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>When the prospect index catches up with the enrollments, relative to their deletes and replacements.</summary>
    public enum Indexing
    {
        Never,
        BeforeChanges,
        BeforeAndAfterChanges,
    }

    private const string Role = "\"prospect_changed_role\"";
    private const string Company = "\"prospect_changed_company\"";
    private const string Anniversary = "\"prospect_job_start_anniversary\"";

    private static async Task<string> EnrollAsync(HttpClient client, string key, string types, IEnumerable<string> prospects, string extra = "")
    {
        var body = $$"""{"enrollment_key":"{{key}}","event_types":[{{types}}],"prospect_ids":[{{string.Join(",", prospects.Select(p => $"\"{p}\""))}}]{{extra}}}""";
        return (await (await client.PostJsonAsync(EnrollmentsPath, body)).ExpectAsync(200)).GetProperty("enrollment_id").GetString()!;
    }

    /// <summary>Index passes of two enrollments each, until one finds less to do.</summary>
    private async Task CatchUpIndexAsync()
    {
        while (!(await _server.Store.IndexEnrollmentsAsync(2, CancellationToken.None)).CaughtUp)
        {
        }
    }

    private async Task<JsonElement> StatsAsync(ServerUnderTest? server = null)
    {
        server ??= _server;
        using var admin = server.Client(server.AdminKey);
        return await (await admin.GetAsync("/v1/admin/stats")).ExpectAsync(200);
    }

    /// <summary>Every stored match as (prospect, event name, partner, enrollment key).</summary>
    private async Task<List<(string Prospect, string Event, string Partner, string Key)>> MatchesAsync()
    {
        await using var connection = await _server.Store.OpenConnectionAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT e.prospect_id, e.event_name, m.partner_id, m.enrollment_key FROM deliveries m JOIN events e ON e.event_id = m.event_id";
        await using var reader = await command.ExecuteReaderAsync();
        var matches = new List<(string, string, string, string)>();
        while (await reader.ReadAsync())
            matches.Add((Convert.ToHexStringLower((byte[])reader.GetValue(0)), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
        return matches;
    }

    private static long MatchesOf(JsonElement stats, string prospect, string eventName) =>
        stats.GetProperty("recent_events").EnumerateArray()
            .Single(e => e.GetProperty("prospect_id").GetString() == prospect && e.GetProperty("event_name").GetString() == eventName)
            .GetProperty("matches").GetInt64();

    [Theory]
    [InlineData(Indexing.Never)]
    [InlineData(Indexing.BeforeChanges)]
    [InlineData(Indexing.BeforeAndAfterChanges)]
    public async Task EachNewEventMatchesTheEnrollmentsThatMonitorItsProspectAndTypeAtDetection(Indexing indexing)
    {
        var (alice, aliceClient) = await _server.NewPartnerAsync("alice");
        var (bob, bobClient) = await _server.NewPartnerAsync("bob");
        string[] p = [.. Enumerable.Range(0, 7).Select(Feed.Id)];
        await EnrollAsync(aliceClient, "alice_all", $"{Role},{Company}", [p[1], p[2], p[6]]);
        await EnrollAsync(bobClient, "bob_roles", Role, [p[1], p[6]]);
        await EnrollAsync(bobClient, "bob_short", Company, [p[2]], extra: ",\"ttl_days\":1");
        var deleted = await EnrollAsync(aliceClient, "alice_deleted", Company, [p[3]]);
        var replaced = await EnrollAsync(bobClient, "bob_replaced", Company, [p[4]]);
        if (indexing != Indexing.Never) await CatchUpIndexAsync();

        _server.Clock.Advance(TimeSpan.FromDays(2)); // bob_short has expired
        await (await aliceClient.SendJsonAsync(HttpMethod.Delete, EnrollmentsPath, $$"""{"enrollment_id":"{{deleted}}"}""")).ExpectAsync(200);
        await (await bobClient.SendJsonAsync(HttpMethod.Patch, EnrollmentsPath,
            $$"""{"enrollment_id":"{{replaced}}","enrollment_key":"bob_replaced","event_types":[{{Company}}],"prospect_ids":["{{p[5]}}"]}""")).ExpectAsync(200);
        if (indexing == Indexing.BeforeAndAfterChanges) await CatchUpIndexAsync();

        var feed = Feed.Lines(
            [.. p.Skip(1).Select(id => Feed.Line(id, "2026-10-01T00:00:00Z", "Acme")),
             .. p.Skip(1).Take(5).Select(id => Feed.Line(id, "2026-11-01T00:00:00Z", "Globex")),
             Feed.Line(p[6], "2026-11-01T00:00:00Z", "Acme", title: "CTO")]);
        Assert.Equal(6, (await _server.IngestAsync(feed)).GetProperty("events").GetInt64());

        var stats = await StatsAsync();
        Assert.Equal(1, MatchesOf(stats, p[1], "prospect_changed_company")); // bob_roles does not take company changes
        Assert.Equal(1, MatchesOf(stats, p[2], "prospect_changed_company")); // bob_short expired
        Assert.Equal(0, MatchesOf(stats, p[3], "prospect_changed_company")); // alice_deleted is gone
        Assert.Equal(0, MatchesOf(stats, p[4], "prospect_changed_company")); // replaced away
        Assert.Equal(1, MatchesOf(stats, p[5], "prospect_changed_company")); // replaced in
        Assert.Equal(2, MatchesOf(stats, p[6], "prospect_changed_role"));
        Assert.Equal(5, stats.GetProperty("event_matches").GetInt64());
        Assert.Equal(6, stats.GetProperty("events").GetInt64());
        Assert.Equal(indexing switch { Indexing.Never => 4, Indexing.BeforeChanges => 1, _ => 0 }, stats.GetProperty("unindexed_enrollments").GetInt64());
        List<(string, string, string, string)> expected =
        [
            (p[1], "prospect_changed_company", alice, "alice_all"), (p[2], "prospect_changed_company", alice, "alice_all"),
            (p[5], "prospect_changed_company", bob, "bob_replaced"),
            (p[6], "prospect_changed_role", alice, "alice_all"), (p[6], "prospect_changed_role", bob, "bob_roles"),
        ];
        Assert.Equal(expected.Order(), (await MatchesAsync()).Order());
    }

    [Fact]
    public async Task ReIngestingAddsNoMatchesEvenForEnrollmentsMadeSince()
    {
        using var client = _server.Client(_server.AdminKey);
        await EnrollAsync(client, "first", Company, [Feed.Dana]);
        var feed = Feed.Lines(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme"), Feed.Line(Feed.Dana, "2026-11-01T00:00:00Z", "Globex"));
        await _server.IngestAsync(feed);
        await EnrollAsync(client, "second", Company, [Feed.Dana]);

        var again = await _server.IngestAsync(feed);

        Assert.Equal(0, again.GetProperty("events").GetInt64());
        var stats = await StatsAsync();
        Assert.Equal(1, stats.GetProperty("event_matches").GetInt64());
        Assert.Equal(1, MatchesOf(stats, Feed.Dana, "prospect_changed_company"));
    }

    [Fact]
    public async Task AnniversariesAreMatchedToTheEnrollmentsSubscribedToThem()
    {
        var (_, alice) = await _server.NewPartnerAsync("alice");
        var (_, bob) = await _server.NewPartnerAsync("bob");
        await EnrollAsync(alice, "anniversaries", Anniversary, [Feed.Dana]);
        await EnrollAsync(bob, "moves", $"{Company},{Role}", [Feed.Dana]);
        await _server.IngestAsync(Feed.Lines(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme", start: "2024-11-01")));

        await _server.Services.GetRequiredService<AnniversaryScheduler>().RunDueAsync(CancellationToken.None); // 2026-11-01

        var stats = await StatsAsync();
        Assert.Equal(1, MatchesOf(stats, Feed.Dana, "prospect_job_start_anniversary"));
        Assert.Equal(1, stats.GetProperty("event_matches").GetInt64());
    }

    [Fact]
    public async Task AnIndexerPassStopsBetweenWholeEnrollmentsAtItsRowBudgetAndTheNextTakesTheRest()
    {
        var (_, client) = await _server.NewPartnerAsync();
        for (var e = 0; e < 3; e++) await EnrollAsync(client, $"batch-{e}", Company, Enumerable.Range(e * 20 + 1, 20).Select(Feed.Id));

        var first = await _server.Store.IndexEnrollmentsAsync(25, CancellationToken.None, maxRows: 30);
        var second = await _server.Store.IndexEnrollmentsAsync(25, CancellationToken.None, maxRows: 30);

        Assert.Equal(new ProspectEvents.Storage.Store.IndexPass(2, CaughtUp: false), first); // 20 rows, then 40 passed the budget at the third's start
        Assert.Equal(new ProspectEvents.Storage.Store.IndexPass(1, CaughtUp: true), second);
        Assert.Equal(0, (await StatsAsync()).GetProperty("unindexed_enrollments").GetInt64());
        // Every prospect of every enrollment is matched through the index now.
        var at = _server.Clock.GetUtcNow();
        var lines = Enumerable.Range(1, 60).SelectMany(n => new[] { Feed.Line(Feed.Id(n), at.AddDays(-9).ToString("O"), "Acme"), Feed.Line(Feed.Id(n), at.AddDays(-1).ToString("O"), "Globex") });
        Assert.Equal(60, (await _server.IngestAsync(Feed.Lines([.. lines]))).GetProperty("events").GetInt32());
        Assert.Equal(60, (await StatsAsync()).GetProperty("event_matches").GetInt64());
    }

    [Fact]
    public async Task TheBackgroundIndexerCatchesUpWithEnrollments()
    {
        await using var server = await ServerUnderTest.StartAsync(backend); // every role, so the indexer runs
        using var client = server.Client(server.AdminKey);
        for (var i = 0; i < 3 * EnrollmentIndexer.PassSize; i++) await EnrollAsync(client, $"key_{i}", Company, [Feed.Id(i)]);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await StatsAsync(server)).GetProperty("unindexed_enrollments").GetInt64() > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "The indexer did not catch up within 30 s.");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task EveryEventOfABigBatchIsMatchedAndTheStatsListOnlyTheLatest()
    {
        using var client = _server.Client(_server.AdminKey);
        var moved = Enumerable.Range(0, 1_200).Where(i => i % 2 == 0).Select(Feed.Id).ToList();
        foreach (var chunk in moved.SkipLast(20).Chunk(20)) await EnrollAsync(client, "movers", Company, chunk);
        await CatchUpIndexAsync();
        await EnrollAsync(client, "movers", Company, moved.TakeLast(20)); // added to an indexed enrollment
        await EnrollAsync(client, "movers_again", Company, moved.Take(20)); // these 20 match twice

        var ingested = await _server.IngestAsync(Feed.TwoSnapshots(1_200, moveEvery: 2));

        Assert.Equal(600, ingested.GetProperty("events").GetInt64());
        var stats = await StatsAsync();
        Assert.Equal(620, stats.GetProperty("event_matches").GetInt64());
        var recent = stats.GetProperty("recent_events").EnumerateArray().ToList();
        Assert.Equal(20, recent.Count);
        Assert.All(recent, e => Assert.InRange(e.GetProperty("matches").GetInt64(), 1, 2));
    }
}

public sealed class SqliteFanoutTests() : FanoutContract(Backend.Sqlite);

public sealed class PostgresFanoutTests() : FanoutContract(Backend.Postgres);
