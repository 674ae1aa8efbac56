using System.Globalization;
using System.Text.Json;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Events;

/// <summary>
/// The rules of <c>POST /v1/prospects/events</c> that an optimisation of its query must keep, over real HTTP, once per
/// backend: events are written straight into the events table, so times, ties and types are exact.
/// </summary>
public abstract class FetchEventsRulesContract(Backend backend) : IAsyncLifetime
{
    private const string EventsPath = "/v1/prospects/events";
    private const string AllTypes = "\"prospect_changed_company\",\"prospect_changed_role\",\"prospect_job_start_anniversary\"";
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
    private ServerUnderTest _server = null!;
    private HttpClient _partner = null!;
    private int _events;

    public async Task InitializeAsync()
    {
        _server = await ServerUnderTest.StartAsync(backend);
        _server.Clock.Advance(Now - _server.Clock.GetUtcNow());
        (_, _partner) = await _server.NewPartnerAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>Writes one event of <paramref name="prospect"/> at <paramref name="time"/>; returns its id.</summary>
    private async Task<string> InsertAsync(int prospect, DateTimeOffset time, string name = "prospect_changed_company", string? id = null)
    {
        id ??= $"{++_events:x32}";
        var hex = Feed.Id(prospect)[..40];
        var blob = backend == Backend.Sqlite ? $"x'{hex}'" : $"'\\x{hex}'::bytea";
        var ms = time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        await _server.SqlAsync(
            "INSERT INTO events (event_id, event_name, prospect_id, event_time, observed_at, detected_at, data) " +
            $"VALUES ('{id}', '{name}', {blob}, {ms}, {ms}, {ms}, '{{\"n\":{_events}}}')");
        return id;
    }

    private async Task<JsonElement[]> FetchAsync(IEnumerable<int> prospects, string extra = "", string types = AllTypes)
    {
        var ids = string.Join(",", prospects.Select(p => $"\"{Feed.Id(p)}\""));
        var result = await (await _partner.PostJsonAsync(EventsPath, $$"""{"prospect_ids":[{{ids}}],"event_types":[{{types}}]{{extra}}}""")).ExpectAsync(200);
        return result.GetProperty("output_events").EnumerateArray().ToArray();
    }

    private static string[] Ids(JsonElement[] events) => [.. events.Select(e => e.GetProperty("event_id").GetString()!)];

    [Fact]
    public async Task EventsComeNewestFirstAcrossProspectsAndTiesInEventIdOrder()
    {
        var old = await InsertAsync(1, Now.AddDays(-30));
        var tieB = await InsertAsync(2, Now.AddDays(-10), id: "b0000000000000000000000000000000");
        var tieA = await InsertAsync(1, Now.AddDays(-10), id: "a0000000000000000000000000000000");
        var newest = await InsertAsync(2, Now.AddDays(-1));

        Assert.Equal([newest, tieA, tieB, old], Ids(await FetchAsync([1, 2])));
        Assert.Equal([newest, tieA, tieB, old], Ids(await FetchAsync([2, 1])));
    }

    [Fact]
    public async Task TheDefaultWindowStartsExactly90DaysAgoToTheMillisecond()
    {
        var start = Now.AddDays(-90);
        var onTheEdge = await InsertAsync(1, start);
        await InsertAsync(1, start.AddMilliseconds(-1));

        Assert.Equal([onTheEdge], Ids(await FetchAsync([1])));
    }

    [Fact]
    public async Task WithoutTimestampToEventsAfterNowAreServedToo()
    {
        var future = await InsertAsync(1, Now.AddDays(3));
        var past = await InsertAsync(1, Now.AddDays(-3));

        Assert.Equal([future, past], Ids(await FetchAsync([1])));
        Assert.Equal([future, past], Ids(await FetchAsync([1], ",\"timestamp_from\":\"2026-11-01\"")));
    }

    [Fact]
    public async Task TimestampToAloneKeepsThe90DayDefaultStart()
    {
        await InsertAsync(1, Now.AddDays(-91));
        var inside = await InsertAsync(1, Now.AddDays(-89));
        await InsertAsync(1, Now.AddDays(-1));

        Assert.Equal([inside], Ids(await FetchAsync([1], ",\"timestamp_to\":\"2026-09-30\"")));
    }

    [Fact]
    public async Task BothBoundsAreInclusiveToTheMillisecond()
    {
        var at = new DateTimeOffset(2026, 11, 5, 10, 30, 0, 123, TimeSpan.Zero);
        var exact = await InsertAsync(1, at);
        await InsertAsync(1, at.AddMilliseconds(-1));
        await InsertAsync(1, at.AddMilliseconds(1));

        Assert.Equal([exact], Ids(await FetchAsync([1], ",\"timestamp_from\":\"2026-11-05T10:30:00.123Z\",\"timestamp_to\":\"2026-11-05T10:30:00.123Z\"")));
    }

    [Fact]
    public async Task EachTypeFiltersAloneAndAllThreeTogether()
    {
        var company = await InsertAsync(1, Now.AddDays(-3), "prospect_changed_company");
        var role = await InsertAsync(1, Now.AddDays(-2), "prospect_changed_role");
        var anniversary = await InsertAsync(1, Now.AddDays(-1), "prospect_job_start_anniversary");

        Assert.Equal([company], Ids(await FetchAsync([1], types: "\"prospect_changed_company\"")));
        Assert.Equal([role], Ids(await FetchAsync([1], types: "\"prospect_changed_role\"")));
        Assert.Equal([anniversary], Ids(await FetchAsync([1], types: "\"prospect_job_start_anniversary\"")));
        Assert.Equal([anniversary, company], Ids(await FetchAsync([1], types: "\"prospect_job_start_anniversary\",\"prospect_changed_company\"")));
        Assert.Equal([anniversary, role, company], Ids(await FetchAsync([1])));
    }

    [Fact]
    public async Task FortyUniqueIdsGetAllTheirEventsAndNoOneElses()
    {
        var wanted = new List<string>();
        for (var p = 1; p <= 40; p++)
        {
            wanted.Add(await InsertAsync(p, Now.AddMinutes(-p)));
            wanted.Add(await InsertAsync(p, Now.AddDays(-20).AddMinutes(-p), "prospect_changed_role"));
        }
        await InsertAsync(41, Now.AddMinutes(-30));
        await InsertAsync(0, Now.AddDays(-5));

        var events = await FetchAsync(Enumerable.Range(1, 40));

        Assert.Equal(80, events.Length);
        Assert.Equal(wanted.OrderBy(i => i, StringComparer.Ordinal), Ids(events).Order(StringComparer.Ordinal));
        Assert.Equal(Enumerable.Range(1, 40).Select(Feed.Id).Order(StringComparer.Ordinal),
            events.Select(e => e.GetProperty("prospect_id").GetString()!).Distinct().Order(StringComparer.Ordinal));
        var times = events.Select(e => e.GetProperty("event_time").GetDateTimeOffset()).ToArray();
        Assert.Equal(times.OrderDescending(), times);
    }

    [Fact]
    public async Task StoredDataIsServedAsItsJson()
    {
        var id = await InsertAsync(7, Now.AddDays(-1));

        var served = Assert.Single(await FetchAsync([7]));

        Assert.Equal(id, served.GetProperty("event_id").GetString());
        Assert.Equal(Feed.Id(7), served.GetProperty("prospect_id").GetString());
        Assert.Equal("2026-11-30T00:00:00+00:00", served.GetProperty("event_time").GetString());
        Assert.Equal(JsonValueKind.Number, served.GetProperty("data").GetProperty("n").ValueKind);
    }
}

public sealed class SqliteFetchEventsRulesTests() : FetchEventsRulesContract(Backend.Sqlite);

public sealed class PostgresFetchEventsRulesTests() : FetchEventsRulesContract(Backend.Postgres);
