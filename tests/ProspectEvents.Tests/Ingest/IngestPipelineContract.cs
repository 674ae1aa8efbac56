using System.Text;
using System.Text.Json;
using ProspectEvents.Detection;
using ProspectEvents.Server.Ingest;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Detection;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Ingest;

/// <summary>
/// The ingest pipeline (batches prepared and judged against the cache while earlier ones are written, states
/// read ahead, the log compacted and superseded states reclaimed as it goes) finds exactly what the pure detector
/// finds over the same batches. Random feeds with fixed seeds: prospects that come back batch after batch, cosmetic
/// variants, unknown fields, duplicate lines and late (older) lines.
/// </summary>
public abstract class IngestPipelineContract(Backend backend) : IAsyncLifetime
{
    private Store _store = null!;
    private IngestEngine _engine = null!;

    public async Task InitializeAsync()
    {
        _store = Store.Create(await TestStorage.CreateAsync(backend));
        await _store.MigrateAsync(TimeProvider.System, CancellationToken.None);
        // Compact and reclaim at every chance, so both happen between batches judged ahead of them.
        _engine = new IngestEngine(_store) { MinimumCompactionBytes = 0, MinimumReclaimRows = 0 };
    }

    public async Task DisposeAsync() => await _store.DisposeAsync();

    /// <summary>Daily snapshots of a few prospects in random line order, with duplicates and lines a few days late.</summary>
    private static List<Observation> RandomFeed(Random random, int prospects, int days)
    {
        var feed = new List<Observation>();
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var day = 0; day < days; day++)
        {
            var snapshot = new List<Observation>();
            foreach (var n in Enumerable.Range(0, prospects).Where(_ => random.Next(4) != 0))
            {
                var observation = new Observation(Feed.Id(n), start.AddDays(day), "Dana Levi", Variants.Titles[random.Next(Variants.Titles.Length)],
                    CompanyName: Variants.Companies[random.Next(Variants.Companies.Length)]);
                snapshot.Add(observation);
                if (random.Next(8) == 0) snapshot.Add(observation);
                if (random.Next(10) == 0) snapshot.Add(observation with { ObservedAt = start.AddDays(day - 1 - random.Next(3)), CompanyName = "Hooli" });
            }
            feed.AddRange(snapshot.OrderBy(_ => random.Next()));
        }
        return feed;
    }

    private static string Ndjson(IEnumerable<Observation> feed)
    {
        var text = new StringBuilder();
        foreach (var o in feed)
        {
            text.AppendLine(JsonSerializer.Serialize(new Dictionary<string, string?>
            {
                ["prospect_id"] = o.ProspectId, ["observed_at"] = o.ObservedAt.ToString("O"), ["full_name"] = o.FullName,
                ["job_title"] = o.JobTitle, ["company_name"] = o.CompanyName,
            }));
        }
        return text.ToString();
    }

    /// <summary>The pure detector over the same batches: each prospect's lines of a batch applied together, batch after batch.</summary>
    private static (HashSet<string> Events, int Stale) Reference(List<Observation> feed, int batchSize)
    {
        var states = new Dictionary<string, ProspectState?>();
        var events = new HashSet<string>();
        var stale = 0;
        foreach (var batch in feed.Chunk(batchSize))
        {
            foreach (var prospect in batch.GroupBy(o => o.ProspectId))
            {
                var (state, found, staleCount) = ChangeDetector.ApplyAll(states.GetValueOrDefault(prospect.Key), [.. prospect]);
                if (state is not null) states[prospect.Key] = state;
                events.UnionWith(found.Select(e => e.EventId));
                stale += staleCount;
            }
        }
        return (events, stale);
    }

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 12)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task TheStoreFindsWhatThePureDetectorFindsOverTheSameBatches(int seed)
    {
        var random = new Random(seed);
        var feed = RandomFeed(random, prospects: 8, days: 30);
        var batchSize = 2 + random.Next(9);

        var run = new IngestRun(_engine, TimeProvider.System, batchSize);
        var summary = await run.RunAsync(new MemoryStream(Encoding.UTF8.GetBytes(Ndjson(feed))), CancellationToken.None);

        var (expected, expectedStale) = Reference(feed, batchSize);
        var stored = await _store.FetchEventsAsync([.. Enumerable.Range(0, 8).Select(Feed.Id)], [.. EventTypeNames.All],
            DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, CancellationToken.None);
        Assert.Equal(expected.Order(), stored.Select(e => e.EventId).Order());
        Assert.Equal((feed.Count, expectedStale, expected.Count), (summary.Observations, summary.Stale, summary.Events));
    }
}

public sealed class SqliteIngestPipelineTests() : IngestPipelineContract(Backend.Sqlite);

public sealed class PostgresIngestPipelineTests() : IngestPipelineContract(Backend.Postgres);
