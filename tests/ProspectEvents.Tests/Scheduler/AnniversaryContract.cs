using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ProspectEvents.Server.Anniversaries;
using ProspectEvents.Server.Cli;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Scheduler;

/// <summary>The daily sweep, its catch-up and the verb, once per backend. The clock starts at 2026-11-01 08:00 UTC.</summary>
public abstract class AnniversaryContract(Backend backend) : IAsyncLifetime
{
    private ServerUnderTest _server = null!;

    // The background scheduler is off so the test drives every pass itself.
    public async Task InitializeAsync() => _server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?> { ["Roles"] = "api,ingest" });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private AnniversaryScheduler Scheduler => _server.Services.GetRequiredService<AnniversaryScheduler>();

    private Task IngestAsync(params string[] lines) => _server.IngestAsync(Feed.Lines(lines));

    private async Task<JsonElement[]> AnniversariesAsync(params string[] ids)
    {
        using var client = _server.Client(_server.AdminKey);
        var body = $$"""{"prospect_ids":[{{string.Join(",", ids.Select(i => $"\"{i}\""))}}],"event_types":["prospect_job_start_anniversary"],"timestamp_from":"2020-01-01"}""";
        return (await (await client.PostJsonAsync("/v1/prospects/events", body)).ExpectAsync(200)).GetProperty("output_events").EnumerateArray().ToArray();
    }

    [Fact]
    public async Task TheFirstRunSweepsOnlyTheLatestDueDay()
    {
        Assert.Equal([new DateOnly(2026, 11, 1)], await Scheduler.RunDueAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ADayIsNotDueBeforeRunAtUtc()
    {
        _server.Clock.Advance(TimeSpan.FromHours(16) + TimeSpan.FromMinutes(1)); // 2026-11-02 00:01, before 00:05
        Assert.Equal([new DateOnly(2026, 11, 1)], await Scheduler.RunDueAsync(CancellationToken.None));
        _server.Clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal([new DateOnly(2026, 11, 2)], await Scheduler.RunDueAsync(CancellationToken.None));
    }

    [Fact]
    public async Task MissedDaysAreCaughtUpAndNoDayIsSweptTwice()
    {
        await IngestAsync(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme", start: "2024-11-03"));
        await Scheduler.RunDueAsync(CancellationToken.None); // 2026-11-01
        _server.Clock.Advance(TimeSpan.FromDays(3));        // down for three days

        var swept = await Scheduler.RunDueAsync(CancellationToken.None);

        Assert.Equal([new DateOnly(2026, 11, 2), new DateOnly(2026, 11, 3), new DateOnly(2026, 11, 4)], swept);
        var anniversary = Assert.Single(await AnniversariesAsync(Feed.Dana));
        Assert.StartsWith("2026-11-03T00:00:00", anniversary.GetProperty("event_time").GetString());
        var data = anniversary.GetProperty("data");
        Assert.Equal(2, data.GetProperty("years_at_company").GetInt32());
        Assert.Equal("2026-11-03", data.GetProperty("job_anniversary_date").GetString());
        Assert.Equal("Acme", data.GetProperty("company_name").GetString());

        Assert.Empty(await Scheduler.RunDueAsync(CancellationToken.None));
        Assert.Equal(0, await _server.Store.SweepAnniversariesAsync(new DateOnly(2026, 11, 3), _server.Clock.GetUtcNow(), CancellationToken.None));
        Assert.Single(await AnniversariesAsync(Feed.Dana));
    }

    [Fact]
    public async Task SchedulersOfTwoProcessesThatFindTheSameDayDueSweepItOnce()
    {
        await IngestAsync(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme", start: "2024-11-01"));
        await using var beside = await ServerUnderTest.StartBesideAsync(_server, new Dictionary<string, string?> { ["Roles"] = "api,ingest" });
        var other = beside.Services.GetRequiredService<AnniversaryScheduler>();

        var swept = await Task.WhenAll(Scheduler.RunDueAsync(CancellationToken.None), other.RunDueAsync(CancellationToken.None));

        Assert.Equal([new DateOnly(2026, 11, 1)], swept.SelectMany(days => days));
        Assert.Single(await AnniversariesAsync(Feed.Dana));
        // The day is found swept under the sweep's lock, so a scheduler that read it as due before the other committed reads nothing.
        Assert.Null(await _server.Store.SweepAnniversariesOnceAsync(new DateOnly(2026, 11, 1), _server.Clock.GetUtcNow(), CancellationToken.None));
    }

    [Fact]
    public async Task TheVerbSweepsTheGivenDateOnce()
    {
        await IngestAsync(
            Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme", start: "2020-02-29"),
            Feed.Line(Feed.Eli, "2026-10-01T00:00:00Z", "Acme", start: "2021-02"));

        async Task<JsonElement> SweepAsync(string date)
        {
            var output = new StringWriter();
            Assert.Equal(0, await Verbs.RunAsync(["anniversaries", "--date", date, .. _server.Storage.Arguments()], output, new StringWriter()));
            return JsonDocument.Parse(output.ToString()).RootElement.Clone();
        }

        var first = await SweepAsync("2027-02-28"); // 2027 is not a leap year: 29 February starts celebrate on the 28th
        Assert.Equal("2027-02-28", first.GetProperty("date").GetString());
        Assert.Equal(1, first.GetProperty("events").GetInt32());
        Assert.Equal(0, (await SweepAsync("2027-02-28")).GetProperty("events").GetInt32());
        Assert.Empty(await AnniversariesAsync(Feed.Eli)); // a month-only start has no anniversary
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OnlyAProspectsCurrentStateHasAnniversariesBeforeAndAfterItsOldStatesAreReclaimed(bool reclaim)
    {
        _server.Ingest.MinimumReclaimRows = reclaim ? 0 : long.MaxValue;
        await IngestAsync(Feed.Line(Feed.Dana, "2026-09-01T00:00:00Z", "Acme", start: "2020-11-03"));
        await IngestAsync(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Globex", start: "2026-06-10")); // the Acme state is superseded

        Assert.Equal(0, await _server.Store.SweepAnniversariesAsync(new DateOnly(2026, 11, 3), _server.Clock.GetUtcNow(), CancellationToken.None));
        Assert.Equal(1, await _server.Store.SweepAnniversariesAsync(new DateOnly(2027, 6, 10), _server.Clock.GetUtcNow(), CancellationToken.None));
        Assert.Equal("Globex", Assert.Single(await AnniversariesAsync(Feed.Dana)).GetProperty("data").GetProperty("company_name").GetString());
    }
}

public sealed class SqliteAnniversaryTests() : AnniversaryContract(Backend.Sqlite);

public sealed class PostgresAnniversaryTests() : AnniversaryContract(Backend.Postgres);
