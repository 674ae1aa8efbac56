using ProspectEvents.Detection;

namespace ProspectEvents.Tests.Detection;

/// <summary>Properties over random observation sequences (fixed seeds, so a failure reproduces).</summary>
public sealed class DetectionPropertyTests
{
    private const string Dana = "20ae6cbf564ee683e66685e429844a5ff8ffc30f";

    /// <summary>Snapshots a day apart, oldest first; some days repeat a line (duplicates) and some have two lines.</summary>
    private static List<Observation> Feed(Random random, int snapshots)
    {
        var feed = new List<Observation>();
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var day = 0; day < snapshots; day++)
        {
            var observation = new Observation(Dana, start.AddDays(day), "Dana Levi", Variants.Titles[random.Next(Variants.Titles.Length)],
                CompanyName: Variants.Companies[random.Next(Variants.Companies.Length)],
                JobStartDate: random.Next(4) == 0 ? new JobStartDate(2025, 12, 1 + random.Next(28)) : null);
            feed.Add(observation);
            if (random.Next(5) == 0) feed.Add(observation); // a duplicate line in the same snapshot
        }
        return feed;
    }

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 200)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void DetectionDoesNotDependOnBatchSizeOrTheOrderOfLinesWithinABatch(int seed)
    {
        var random = new Random(seed);
        var feed = Feed(random, 30);
        var (wholeState, wholeEvents, wholeStale) = ChangeDetector.ApplyAll(null, feed);

        ProspectState? state = null;
        var events = new List<CareerEvent>();
        var stale = 0;
        for (var at = 0; at < feed.Count;)
        {
            var size = 1 + random.Next(7);
            var batch = feed.Skip(at).Take(size).OrderBy(_ => random.Next()).ToList(); // lines of a batch in any order
            var result = ChangeDetector.ApplyAll(state, batch);
            (state, stale) = (result.State, stale + result.Stale);
            events.AddRange(result.Events);
            at += size;
        }

        Assert.Equal(wholeEvents.Select(e => e.EventId), events.Select(e => e.EventId));
        Assert.Equal(wholeState, state);
        Assert.Equal(wholeStale, stale);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void IngestingTwiceEqualsIngestingOnce(int seed)
    {
        var feed = Feed(new Random(seed), 30);
        var (state, _, _) = ChangeDetector.ApplyAll(null, feed);

        var (again, events, stale) = ChangeDetector.ApplyAll(state, feed);

        Assert.Empty(events);
        Assert.Equal(feed.Count, stale);
        Assert.Equal(state, again);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void CosmeticVariantsAloneNeverMakeAnEvent(int seed)
    {
        var random = new Random(seed);
        string?[] acme = ["Acme", "Acme, Inc.", "ACME", " acme ", "The Acme Company", "Acme &amp; Co.", "\uFF21\uFF23\uFF2D\uFF25", "Acme\u200B GmbH", null, ""];
        string?[] vp = ["VP Sales", "Vice President, Sales", "V.P. Sales", "vp  sales", "Vice President of Sales", "Sales VP", "VP, Sales @ Acme",
            "VP Sales | Hiring!", "Vice\u00A0President \u2013 Sales (she/her)", "\U0001F680 VP Sales", null, ""];
        var feed = Enumerable.Range(0, 40).Select(day => new Observation(Dana, DateTimeOffset.UnixEpoch.AddDays(day),
            JobTitle: vp[random.Next(vp.Length)], CompanyName: acme[random.Next(acme.Length)]));

        Assert.Empty(ChangeDetector.ApplyAll(null, feed).Events);
    }
}
