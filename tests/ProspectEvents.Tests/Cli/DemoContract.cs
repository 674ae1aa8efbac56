using System.Text.Json;
using ProspectEvents.Server.Cli;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Cli;

/// <summary>The <c>demo</c> verb's feed, ingested for real, once per backend: the planted events and nothing else.</summary>
public abstract class DemoContract(Backend backend) : IAsyncLifetime
{
    // The server's clock day, so the planted anniversaries are due today.
    private const string Date = "2026-11-01";

    private ServerUnderTest _server = null!;

    // No background scheduler: the test sweeps the demo date itself, as the quick start does.
    public async Task InitializeAsync() => _server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?> { ["Roles"] = "api,ingest" });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static async Task<(int ExitCode, string Output, string Error)> DemoAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await Verbs.RunAsync(["demo", "--date", Date, .. args], output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData(20, 1)]
    [InlineData(40, 7)]
    public async Task IngestingTheDemoFeedYieldsExactlyThePlantedEventsAndNoneForTheRewordedProfiles(int prospects, int seed)
    {
        var (_, feed, summary) = await DemoAsync("--prospects", $"{prospects}", "--seed", $"{seed}");
        var (_, expected, _) = await DemoAsync("--prospects", $"{prospects}", "--seed", $"{seed}", "--expected");
        var planted = expected.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => (e.GetProperty("prospect_id").GetString()!, e.GetProperty("event_name").GetString()!)).ToHashSet();
        var ids = feed.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("prospect_id").GetString()!).Distinct().ToArray();
        Assert.Equal(prospects, ids.Length);
        Assert.Contains("planted", summary);

        var ingested = await _server.IngestElsewhereAsync(feed); // the `ingest` verb, as the quick start runs it
        var (sweepExit, _, sweepError) = await ServerUnderTest.RunVerbAsync(["anniversaries", "--date", Date, .. _server.Storage.Arguments()]);
        Assert.True(sweepExit == 0, sweepError);

        Assert.Equal(3 * prospects, ingested.GetProperty("observations").GetInt32());
        Assert.Equal(0, ingested.GetProperty("rejected").GetInt32());
        Assert.Equal(0, ingested.GetProperty("stale").GetInt32());
        var found = (await FetchAsync(ids)).Select(e => (e.GetProperty("prospect_id").GetString()!, e.GetProperty("event_name").GetString()!)).ToList();
        Assert.Equal(found.Count, found.Distinct().Count());
        Assert.Equal(planted.OrderBy(p => p), found.OrderBy(p => p));
        Assert.Equal(planted.Count(p => p.Item2 != EventTypeNames.JobStartAnniversary), ingested.GetProperty("events").GetInt32());
        foreach (var name in EventTypeNames.All) Assert.Contains(planted, p => p.Item2 == name);
        Assert.True(planted.Count < prospects, "some prospects must only be reworded or stay the same");
    }

    [Fact]
    public async Task TheEnrollmentItPrintsEnrollsTheSameProspectsItsIdsList()
    {
        var (exit, body, _) = await DemoAsync("--enrollment");
        var (_, ids, _) = await DemoAsync("--ids");

        Assert.Equal(0, exit);
        var (_, client) = await _server.NewPartnerAsync();
        using (client)
        {
            var enrolled = await (await client.PostJsonAsync(EnrollmentsPath, body)).ExpectAsync(200);
            Assert.Equal(DemoVerb.EnrollmentKey, enrolled.GetProperty("enrollment_key").GetString());
            var listed = (await (await client.GetAsync(EnrollmentsPath)).ExpectAsync(200)).GetProperty("enrollments")[0];
            Assert.Equal(ids.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(), listed.GetProperty("prospect_ids").Strings().Order());
            Assert.Equal(EventTypeNames.All.Order(), listed.GetProperty("event_types").Strings().Order());
        }
    }

    [Fact]
    public async Task TheFeedIsTheSameForASeedAndAnotherForAnotherSeed()
    {
        var first = (await DemoAsync("--seed", "3")).Output;

        Assert.Equal(first, (await DemoAsync("--seed", "3")).Output);
        Assert.NotEqual(first, (await DemoAsync("--seed", "4")).Output);
    }

    [Fact]
    public async Task AnEnrollmentOfMoreProspectsThanV1TakesIsRefusedWithAClearMessage()
    {
        var (exit, output, error) = await DemoAsync("--prospects", "21", "--enrollment");

        Assert.Equal(Verbs.CannotStartExit, exit);
        Assert.Empty(output);
        Assert.Contains("up to 20 prospect ids", error);
    }

    private async Task<JsonElement[]> FetchAsync(string[] ids)
    {
        using var client = _server.Client(_server.AdminKey);
        var events = new List<JsonElement>();
        foreach (var chunk in ids.Chunk(40))
        {
            var body = JsonSerializer.Serialize(new { prospect_ids = chunk, event_types = EventTypeNames.All, timestamp_from = "2000-01-01" });
            events.AddRange((await (await client.PostJsonAsync("/v1/prospects/events", body)).ExpectAsync(200)).GetProperty("output_events").EnumerateArray());
        }
        return [.. events];
    }
}

public sealed class SqliteDemoTests() : DemoContract(Backend.Sqlite);

public sealed class PostgresDemoTests() : DemoContract(Backend.Postgres);
