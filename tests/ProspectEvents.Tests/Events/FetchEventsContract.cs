using System.Text;
using System.Text.Json;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Events;

/// <summary><c>POST /v1/prospects/events</c> over real HTTP, once per backend.</summary>
public abstract class FetchEventsContract(Backend backend) : IAsyncLifetime
{
    private const string EventsPath = "/v1/prospects/events";
    private ServerUnderTest _server = null!;
    private HttpClient _partner = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerUnderTest.StartAsync(backend);
        // The clock stands at 2026-12-01; Dana moves twice and changes role once, Eli moves once.
        _server.Clock.Advance(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero) - _server.Clock.GetUtcNow());
        var feed = Feed.Lines(
            Feed.Line(Feed.Dana, "2026-01-01T00:00:00Z", "Acme"),
            Feed.Line(Feed.Dana, "2026-02-01T00:00:00Z", "Globex"),                 // company, 2026-02-01 (older than 90 days)
            Feed.Line(Feed.Dana, "2026-10-10T12:00:00Z", "Globex", "CEO"),          // role, 2026-10-10T12:00
            Feed.Line(Feed.Dana, "2026-11-20T00:00:00Z", "Initech", "CEO", "2026-11-15"), // company, event_time 2026-11-15
            Feed.Line(Feed.Eli, "2026-10-01T00:00:00Z", "Acme"),
            Feed.Line(Feed.Eli, "2026-11-01T00:00:00Z", "Hooli"));                  // company, 2026-11-01
        await _server.IngestAsync(feed);
        (_, _partner) = await _server.NewPartnerAsync(); // no enrollment: events are shared facts
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<JsonElement[]> FetchAsync(string body)
    {
        var result = await (await _partner.PostJsonAsync(EventsPath, body)).ExpectAsync(200);
        return result.GetProperty("output_events").EnumerateArray().ToArray();
    }

    private static string Body(string extra = "", string types = "\"prospect_changed_company\",\"prospect_changed_role\"", params string[] ids) =>
        $$"""{"prospect_ids":[{{string.Join(",", (ids.Length == 0 ? [Feed.Dana, Feed.Eli] : ids).Select(i => $"\"{i}\""))}}],"event_types":[{{types}}]{{extra}}}""";

    [Fact]
    public async Task WithoutBoundsTheLast90DaysAreReturnedNewestFirst()
    {
        var events = await FetchAsync(Body());

        Assert.Equal(["2026-11-15", "2026-11-01", "2026-10-10"], events.Select(e => e.GetProperty("event_time").GetString()![..10]));
        Assert.Equal(["event_id", "event_name", "event_time", "prospect_id", "data"], events[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal("Initech", events[0].GetProperty("data").GetProperty("current_company_name").GetString());
        Assert.Equal(Feed.Eli, events[1].GetProperty("prospect_id").GetString());
    }

    [Fact]
    public async Task EventTypesFilterTheResult()
    {
        var events = await FetchAsync(Body(types: "\"prospect_changed_role\""));
        Assert.Equal("prospect_changed_role", Assert.Single(events).GetProperty("event_name").GetString());
    }

    [Fact]
    public async Task DateOnlyBoundsCoverWholeDays()
    {
        var events = await FetchAsync(Body(",\"timestamp_from\":\"2026-10-10\",\"timestamp_to\":\"2026-11-01\""));
        Assert.Equal(["2026-11-01", "2026-10-10"], events.Select(e => e.GetProperty("event_time").GetString()![..10]));
    }

    [Fact]
    public async Task DateTimeBoundsAreExact()
    {
        var events = await FetchAsync(Body(",\"timestamp_from\":\"2026-10-10T12:00:01Z\",\"timestamp_to\":\"2026-12-31T00:00:00Z\""));
        Assert.Equal(2, events.Length);
        var old = await FetchAsync(Body(",\"timestamp_from\":\"2026-01-01\"", ids: Feed.Dana));
        Assert.Equal(3, old.Length); // the February move too, once asked for
    }

    [Theory]
    [InlineData(41, false, "[\"body\",\"prospect_ids\"]", "too_long")]
    [InlineData(2, true, "[\"body\",\"prospect_ids\"]", "value_error")]
    public async Task ProspectIdCountAndUniquenessAreValidated(int count, bool duplicate, string loc, string type)
    {
        var ids = Enumerable.Range(1, count).Select(i => duplicate ? Feed.Dana : Feed.Id(i)).ToArray();
        var error = await (await _partner.PostJsonAsync(EventsPath, Body(ids: ids))).ExpectAsync(422);
        var problem = Assert.Single(error.GetProperty("detail").EnumerateArray());
        Assert.Equal(loc, problem.GetProperty("loc").GetRawText());
        Assert.Equal(type, problem.GetProperty("type").GetString());
    }

    [Theory]
    [InlineData(",\"timestamp_from\":\"last week\"", "timestamp_from", "datetime_parsing")]
    [InlineData(",\"timestamp_to\":\"2026-13-01\"", "timestamp_to", "datetime_parsing")]
    [InlineData(",\"timestamp_from\":\"2026-11-02\",\"timestamp_to\":\"2026-11-01\"", "timestamp_from", "value_error")]
    [InlineData(",\"limit\":5", "limit", "extra_forbidden")]
    public async Task BadBoundsAndUnknownFieldsAreRejected(string extra, string field, string type)
    {
        var error = await (await _partner.PostJsonAsync(EventsPath, Body(extra))).ExpectAsync(422);
        var problem = Assert.Single(error.GetProperty("detail").EnumerateArray());
        Assert.Equal($"[\"body\",\"{field}\"]", problem.GetProperty("loc").GetRawText());
        Assert.Equal(type, problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task EventTypesAreRequiredAndValidated()
    {
        var error = await (await _partner.PostJsonAsync(EventsPath, $$"""{"prospect_ids":["{{Feed.Dana}}"],"event_types":["prospect_was_promoted"]}""")).ExpectAsync(422);
        Assert.Equal("enum", error.GetProperty("detail")[0].GetProperty("type").GetString());
    }
}

public sealed class SqliteFetchEventsTests() : FetchEventsContract(Backend.Sqlite);

public sealed class PostgresFetchEventsTests() : FetchEventsContract(Backend.Postgres);
