using System.Text.Json;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;
using static ProspectEvents.Tests.V2.V2Json;

namespace ProspectEvents.Tests.V2;

/// <summary><c>POST /v2/prospects/events</c> as docs/api.md ("Fetch in v2") describes it, over real HTTP, once per backend.</summary>
public abstract class FetchV2Contract(Backend backend) : IAsyncLifetime
{
    private const string ProspectTypes = "\"prospect_changed_company\",\"prospect_changed_role\",\"prospect_job_start_anniversary\"";
    private ServerUnderTest _server = null!;
    private HttpClient _partner = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerUnderTest.StartAsync(backend);
        // The clock stands at 2026-12-01; Dana moves twice and changes role once, Eli moves once.
        _server.Clock.Advance(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero) - _server.Clock.GetUtcNow());
        await _server.IngestAsync(Feed.Lines(
            Feed.Line(Feed.Dana, "2026-01-01T00:00:00Z", "Acme"),
            Feed.Line(Feed.Dana, "2026-02-01T00:00:00Z", "Globex"),                       // company, 2026-02-01 (older than 90 days)
            Feed.Line(Feed.Dana, "2026-10-10T12:00:00Z", "Globex", "CEO"),                // role, 2026-10-10T12:00
            Feed.Line(Feed.Dana, "2026-11-20T00:00:00Z", "Initech", "CEO", "2026-11-15"), // company, event_time 2026-11-15
            Feed.Line(Feed.Eli, "2026-10-01T00:00:00Z", "Acme"),
            Feed.Line(Feed.Eli, "2026-11-01T00:00:00Z", "Hooli")));                       // company, 2026-11-01
        (_, _partner) = await _server.NewPartnerAsync(); // no enrollment and no webhook: events are shared facts
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Body(string extra = "", string types = ProspectTypes, params string[] ids) =>
        $$"""{"prospect_ids":[{{Ids(ids.Length == 0 ? [Feed.Dana, Feed.Eli] : ids)}}],"event_types":[{{types}}]{{extra}}}""";

    private async Task<JsonElement[]> FetchAsync(string body)
    {
        var result = await (await _partner.PostJsonAsync(FetchV2Path, body)).ExpectAsync(200);
        AssertV2Context(result);
        Assert.Equal(["output_events", "response_context"], result.EnumerateObject().Select(p => p.Name).Order());
        return result.GetProperty("output_events").EnumerateArray().ToArray();
    }

    private static string[] Days(JsonElement[] events) => [.. events.Select(e => e.GetProperty("event_time").GetString()![..10])];

    [Fact]
    public async Task OutputEventsCarryTheirFiveFieldsNewestFirstFromTheLast90Days()
    {
        var events = await FetchAsync(Body());

        Assert.Equal(["2026-11-15", "2026-11-01", "2026-10-10"], Days(events));
        Assert.All(events, e => Assert.Equal(["event_id", "event_name", "event_time", "prospect_id", "data"], e.EnumerateObject().Select(p => p.Name)));
        Assert.All(events, e => Assert.Matches("^[0-9a-f]{32}$", e.GetProperty("event_id").GetString()));
        Assert.Equal(["prospect_changed_company", "prospect_changed_company", "prospect_changed_role"], events.Select(e => e.GetProperty("event_name").GetString()));
        Assert.Equal([Feed.Dana, Feed.Eli, Feed.Dana], events.Select(e => e.GetProperty("prospect_id").GetString()));
        Assert.Equal("Initech", events[0].GetProperty("data").GetProperty("current_company_name").GetString());
        Assert.Equal("CEO", events[2].GetProperty("data").GetProperty("current_job_title").GetString());
    }

    [Fact]
    public async Task TheSameEventsAsV1WithTheSameIds()
    {
        var v1 = await (await _partner.PostJsonAsync("/v1/prospects/events", Body(types: "\"prospect_changed_company\",\"prospect_changed_role\""))).ExpectAsync(200);

        var v2 = await FetchAsync(Body());

        AssertV1Context(v1);
        Assert.Equal(v1.GetProperty("output_events").GetRawText(), "[" + string.Join(",", v2.Select(e => e.GetRawText())) + "]");
    }

    [Fact]
    public async Task FortyUniqueIdsAreAccepted()
    {
        var ids = Enumerable.Range(1, 38).Select(Feed.Id).Append(Feed.Dana).Append(Feed.Eli).ToArray();

        var events = await FetchAsync(Body(ids: ids));

        Assert.Equal(3, events.Length);
    }

    [Fact]
    public async Task FortyOneIdsAre422()
    {
        var error = await (await _partner.PostJsonAsync(FetchV2Path, Body(ids: [.. Enumerable.Range(1, 41).Select(Feed.Id)]))).ExpectAsync(422);

        Assert.Equal(("body.prospect_ids", "too_long"), Problem(error));
    }

    [Fact]
    public async Task DuplicateIdsAre422()
    {
        var error = await (await _partner.PostJsonAsync(FetchV2Path, Body(ids: [Feed.Dana, Feed.Eli, Feed.Dana]))).ExpectAsync(422);

        Assert.Equal(("body.prospect_ids", "value_error"), Problem(error));
    }

    [Theory]
    [InlineData("\"new_funding_round\"")]
    [InlineData("\"executive_joined_company\"")]
    [InlineData("\"new_funding_round\",\"hiring_in_sales_department\",\"award\"")]
    public async Task BusinessEventTypesOfTheSharedEnumAreAcceptedAndFindNothing(string types)
    {
        Assert.Empty(await FetchAsync(Body(types: types)));
    }

    [Fact]
    public async Task BusinessTypesBesideProspectTypesDoNotHideTheProspectEvents()
    {
        var events = await FetchAsync(Body(types: "\"new_funding_round\",\"prospect_changed_role\",\"executive_joined_company\""));

        Assert.Equal("prospect_changed_role", Assert.Single(events).GetProperty("event_name").GetString());
    }

    [Fact]
    public async Task ATypeOutsideTheSharedEnumIs422()
    {
        var error = await (await _partner.PostJsonAsync(FetchV2Path, Body(types: "\"prospect_was_promoted\""))).ExpectAsync(422);

        var (loc, type) = Problem(error);
        Assert.StartsWith("body.event_types", loc);
        Assert.Equal("enum", type);
    }

    [Fact]
    public async Task EntityTypeProspectIsAccepted()
    {
        Assert.Equal(3, (await FetchAsync(Body(",\"entity_type\":\"prospect\""))).Length);
        Assert.Equal(3, (await FetchAsync(Body(",\"entity_type\":null"))).Length);
    }

    [Theory]
    [InlineData("business", "value_error")]
    [InlineData("company", "enum")]
    public async Task AnyOtherEntityTypeIs422(string entityType, string type)
    {
        var error = await (await _partner.PostJsonAsync(FetchV2Path, Body($",\"entity_type\":\"{entityType}\""))).ExpectAsync(422);

        Assert.Equal(("body.entity_type", type), Problem(error));
    }

    [Fact]
    public async Task TimestampToIsHonoured()
    {
        Assert.Equal(["2026-11-01", "2026-10-10"], Days(await FetchAsync(Body(",\"timestamp_to\":\"2026-11-01\""))));
        Assert.Equal(["2026-10-10"], Days(await FetchAsync(Body(",\"timestamp_to\":\"2026-10-31T23:59:59Z\""))));
        Assert.Equal(["2026-11-01"], Days(await FetchAsync(Body(",\"timestamp_from\":\"2026-10-11\",\"timestamp_to\":\"2026-11-14\""))));
        Assert.Equal(["2026-02-01"], Days(await FetchAsync(Body(",\"timestamp_from\":\"2026-01-01\",\"timestamp_to\":\"2026-03-01\"", ids: Feed.Dana))));
    }

    [Theory]
    [InlineData(",\"limit\":5", "body.limit", "extra_forbidden")]
    [InlineData(",\"partner_id\":\"P\"", "body.partner_id", "extra_forbidden")]
    [InlineData(",\"page_size\":10", "body.page_size", "extra_forbidden")]
    [InlineData(",\"timestamp_to\":\"2026-13-01\"", "body.timestamp_to", "datetime_parsing")]
    public async Task UnknownFieldsAndBadBoundsAre422(string extra, string loc, string type)
    {
        var error = await (await _partner.PostJsonAsync(FetchV2Path, Body(extra))).ExpectAsync(422);

        Assert.Equal((loc, type), Problem(error));
    }

    [Fact]
    public async Task ProspectIdsAndEventTypesAreRequired()
    {
        var error = await (await _partner.PostJsonAsync(FetchV2Path, "{}")).ExpectAsync(422);

        var locs = error.GetProperty("detail").EnumerateArray().Select(Loc).Order().ToArray();
        Assert.Equal(["body.event_types", "body.prospect_ids"], locs);
    }
}

public sealed class SqliteFetchV2Tests() : FetchV2Contract(Backend.Sqlite);

public sealed class PostgresFetchV2Tests() : FetchV2Contract(Backend.Postgres);
