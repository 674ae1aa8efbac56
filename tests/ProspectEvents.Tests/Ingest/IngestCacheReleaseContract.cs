using Microsoft.Extensions.Logging;
using ProspectEvents.Server.Ingest;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Ingest;

/// <summary>
/// The ingest's prospect cache is given back after <c>Ingest:CacheIdleTimeout</c> without a batch, and the next
/// snapshot is judged exactly as it would have been with the cache kept.
/// </summary>
public abstract class IngestCacheReleaseContract(Backend backend) : IAsyncLifetime
{
    private readonly LogCapture _logs = new() { MinimumLevel = LogLevel.Information };
    private ServerUnderTest _server = null!;

    public async Task InitializeAsync() => _server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?>
    {
        ["Ingest:CacheIdleTimeout"] = "00:00:04",
        [$"Logging:LogLevel:{typeof(IngestCacheRelease).FullName}"] = "Information",
    }, builder => builder.Logging.AddProvider(_logs));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Snapshot(string observedAt, string danaCompany) =>
        Feed.Lines(Feed.Line(Feed.Dana, observedAt, danaCompany), Feed.Line(Feed.Eli, observedAt, "Initech"));

    private async Task<long> EventsAsync(string ndjson) => (await _server.IngestAsync(ndjson)).GetProperty("events").GetInt64();

    /// <summary>Moves the test clock a second every 100 ms until the release is logged; the timer itself runs on real time.</summary>
    private async Task WaitForReleaseAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!_logs.Drain().Any(e => e.EventId.Id == 19))
        {
            Assert.True(DateTime.UtcNow < deadline, "the cache was not released within 30 s");
            _server.Clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task AfterTheIdleTimeoutTheCacheIsReleasedAndTheNextSnapshotsAreJudgedAsBefore()
    {
        await EventsAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));

        await WaitForReleaseAsync();

        var again = await _server.IngestAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));
        Assert.Equal(2, again.GetProperty("stale").GetInt64());
        Assert.Equal(0, await EventsAsync(Snapshot("2026-10-01T00:00:00Z", "Acme Inc.")));
        Assert.Equal(1, await EventsAsync(Snapshot("2026-11-01T00:00:00Z", "Globex")));
    }

    [Fact]
    public async Task ABatchBegunSinceTheStoreWasLastSeenIdleKeepsTheCache()
    {
        await EventsAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));
        var seen = _server.Ingest.Batches;
        await EventsAsync(Snapshot("2026-10-01T00:00:00Z", "Acme"));

        Assert.False(await _server.Ingest.ReleaseCacheAsync(seen, CancellationToken.None));
        Assert.True(await _server.Ingest.ReleaseCacheAsync(_server.Ingest.Batches, CancellationToken.None));
        Assert.False(await _server.Ingest.ReleaseCacheAsync(_server.Ingest.Batches, CancellationToken.None)); // nothing left to release
        Assert.Equal(1, await EventsAsync(Snapshot("2026-11-01T00:00:00Z", "Globex")));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(4, 1)]
    [InlineData(600, 60)]
    [InlineData(36000, 60)]
    public void TheReleaseLooksAQuarterOfTheTimeoutApartBetweenASecondAndAMinute(int idleSeconds, int periodSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(periodSeconds), IngestCacheRelease.Period(TimeSpan.FromSeconds(idleSeconds)));
}

public sealed class SqliteIngestCacheReleaseTests() : IngestCacheReleaseContract(Backend.Sqlite);

public sealed class PostgresIngestCacheReleaseTests() : IngestCacheReleaseContract(Backend.Postgres);
