using System.IO.Compression;
using System.Text;
using System.Text.Json;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Ingest;

/// <summary>Ingest over HTTP and by the verb, once per backend.</summary>
public abstract class IngestContract(Backend backend) : IAsyncLifetime
{
    protected ServerUnderTest Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await ServerUnderTest.StartAsync(backend);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    [Fact]
    public async Task ObservationsPostedOverHttpBecomeEventsAndBadLinesAreRejectedByNumber()
    {
        var body = await Server.IngestAsync(Feed.Lines(
            Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme"),
            "{not json",
            Feed.Line(Feed.Dana, "2026-11-01T00:00:00Z", "Globex"),
            """{"prospect_id":"20ae6cbf564ee683e66685e429844a5ff8ffc30f"}""",
            """{"prospect_id":"xyz","observed_at":"2026-11-01T00:00:00Z"}""",
            """{"prospect_id":"4c485f009d59e319dc039cdf3e935b85014e6a33","observed_at":"2026-11-01T00:00:00Z","job_title":42}"""));

        Assert.Equal(2, body.GetProperty("observations").GetInt64());
        Assert.Equal(4, body.GetProperty("rejected").GetInt64());
        Assert.Equal(1, body.GetProperty("events").GetInt64());
        var rejected = body.GetProperty("rejected_lines").EnumerateArray().ToList();
        Assert.Equal([2L, 4, 5, 6], rejected.Select(r => r.GetProperty("line").GetInt64()));
        Assert.Contains("observed_at is required", rejected[1].GetProperty("error").GetString());
        Assert.Contains("prospect_id", rejected[2].GetProperty("error").GetString());
        Assert.Contains("job_title", rejected[3].GetProperty("error").GetString());
    }

    [Fact]
    public async Task ReIngestingTheSameFeedGivesNoNewEvents()
    {
        var feed = Feed.TwoSnapshots(200, moveEvery: 10);
        var first = await Server.IngestAsync(feed);
        var second = await Server.IngestAsync(feed);

        Assert.Equal(20, first.GetProperty("events").GetInt64());
        Assert.Equal(0, second.GetProperty("events").GetInt64());
        Assert.Equal(400, second.GetProperty("stale").GetInt64());
    }

    [Fact]
    public async Task ConcurrentIngestsOfOneFeedFindItsEventsExactlyOnce()
    {
        var feed = Feed.TwoSnapshots(2_000, moveEvery: 20);

        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Server.IngestAsync(feed)));

        Assert.Equal(100, results.Sum(r => r.GetProperty("events").GetInt64()));
        Assert.Equal(12_000, results.Sum(r => r.GetProperty("observations").GetInt64()));
    }

    [Fact]
    public async Task AnIngestBodyOverOneMebibyteIsStreamedAndTaken()
    {
        var feed = Feed.TwoSnapshots(5_000, moveEvery: 50);
        Assert.True(Encoding.UTF8.GetByteCount(feed) > 1024 * 1024);

        var body = await Server.IngestAsync(feed);

        Assert.Equal(10_000, body.GetProperty("observations").GetInt64());
        Assert.Equal(100, body.GetProperty("events").GetInt64());
    }

    [Fact]
    public async Task APartnerKeyCannotIngest()
    {
        var (_, partner) = await Server.NewPartnerAsync();
        await (await partner.PostAsync("/v1/admin/observations", new StringContent(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme")))).ExpectAsync(403);
    }

    [Fact]
    public async Task TheVerbReadsGzippedNdjsonAndPrintsItsSummary()
    {
        var path = Path.Combine(Path.GetTempPath(), $"feed-{Guid.NewGuid():N}.ndjson.gz");
        await using (var gzip = new GZipStream(File.Create(path), CompressionLevel.Fastest))
            await gzip.WriteAsync(Encoding.UTF8.GetBytes(Feed.TwoSnapshots(100, moveEvery: 4)));

        var (exit, summary, _) = await Server.IngestWithVerbAsync(path);

        Assert.Equal(0, exit);
        Assert.Equal(["observations", "rejected", "stale", "events", "seconds"], summary!.Value.EnumerateObject().Select(p => p.Name));
        Assert.Equal(200, summary.Value.GetProperty("observations").GetInt64());
        Assert.Equal(25, summary.Value.GetProperty("events").GetInt64());
    }

    [Fact]
    public async Task TheVerbReadsCsvWithTheSameColumnNames()
    {
        var path = Path.Combine(Path.GetTempPath(), $"feed-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(path, $"""
            prospect_id,observed_at,job_title,company_name,extra_column
            {Feed.Dana},2026-10-01T00:00:00Z,VP Sales,"Acme, Inc.",x
            {Feed.Dana},2026-11-01T00:00:00Z,"Vice President, Sales",Acme,y
            {Feed.Dana},2026-12-01T00:00:00Z,VP Sales,Globex,z
            not-an-id,2026-12-01T00:00:00Z,VP Sales,Globex,z

            """);

        var (exit, summary, error) = await Server.IngestWithVerbAsync(path);

        Assert.Equal(0, exit);
        Assert.Equal(3, summary!.Value.GetProperty("observations").GetInt64());
        Assert.Equal(1, summary.Value.GetProperty("rejected").GetInt64());
        Assert.Equal(1, summary.Value.GetProperty("events").GetInt64());
        Assert.Contains("line 5: prospect_id must be 40 hex characters", error);
    }

    [Fact]
    public async Task TheVerbFailsOnlyWhenNothingCouldBeRead()
    {
        var missing = await Server.IngestWithVerbAsync("/nonexistent/feed.ndjson");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("No such file", missing.Error);

        var path = Path.Combine(Path.GetTempPath(), $"feed-{Guid.NewGuid():N}.ndjson");
        await File.WriteAllTextAsync(path, "garbage\nmore garbage\n");
        var (exit, summary, _) = await Server.IngestWithVerbAsync(path);
        Assert.Equal(1, exit);
        Assert.Equal(2, summary!.Value.GetProperty("rejected").GetInt64());
    }
}

public sealed class SqliteIngestTests() : IngestContract(Backend.Sqlite);

public sealed class PostgresIngestTests() : IngestContract(Backend.Postgres);
