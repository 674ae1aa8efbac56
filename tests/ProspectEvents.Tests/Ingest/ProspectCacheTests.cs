using System.Runtime.CompilerServices;
using ProspectEvents.Detection;
using ProspectEvents.Server.Ingest;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Ingest;

public sealed class ProspectCacheTests
{
    [Fact]
    public void ARowNumberBeyondThe32BitRangeSurvivesTheObservationLog()
    {
        var entry = new LogEntry(ProspectKey.FromHex(Feed.Dana), new CachedProspect(1_790_000_000_000, 5_000_000_000, new Fingerprint(1, 2, 3, 4, 5, 6, 20200101)));
        var bytes = new byte[LogEntry.Size];
        entry.Write(bytes);

        Assert.Equal(entry, LogEntry.Read(bytes));
    }

    [Fact]
    public void AKnownProspectTakes44BytesOfValueSoAMillionStayWithinTheMemoryTarget()
    {
        Assert.Equal(44, Unsafe.SizeOf<CachedProspect>()); // 8 time + 8 row + 28 fingerprint, no padding
    }

    private static byte[] Entries(int from, int count, long observedAtMs = 1_000) => LogEntry.Pack([.. Enumerable.Range(from, count)
        .Select(n => new LogEntry(ProspectKey.FromHex(Feed.Id(n)), new CachedProspect(observedAtMs, n, new Fingerprint(1, 2, 3, 4, 5, 6, 0))))]);

    private static byte[] Repeats(int from, int count, long observedAtMs) =>
        LogTime.Pack([.. Enumerable.Range(from, count).Select(n => new LogTime(ProspectKey.FromHex(Feed.Id(n)), observedAtMs))]);

    [Fact]
    public void ALogListingEachProspectOnceIsNotCompactedHoweverLargeItsRowsSinceTheBase()
    {
        var cache = new ProspectCache();
        cache.Fold(1, isBase: true, Entries(0, 100));
        cache.Fold(2, isBase: false, Entries(100, 300)); // three times the base, all of it first sights

        Assert.False(cache.CompactionDue(minimumBytes: 0));
    }

    [Fact]
    public void ALogIsCompactedOnceABaseWouldDropAsMuchAsItKeeps()
    {
        var cache = new ProspectCache();
        cache.Fold(1, isBase: true, Entries(0, 100));
        cache.Fold(2, isBase: false, Entries(0, 60, observedAtMs: 2_000)); // 60 of 100 again: 3,840 of 6,400 bytes
        Assert.False(cache.CompactionDue(minimumBytes: 0));

        cache.Fold(3, isBase: false, default, Repeats(0, 92, observedAtMs: 3_000)); // 2,576 bytes more: 6,416
        Assert.True(cache.CompactionDue(minimumBytes: 0));
        Assert.False(cache.CompactionDue(minimumBytes: 6_417));

        cache.Rebased(3);
        Assert.False(cache.CompactionDue(minimumBytes: 0));
    }

    [Fact]
    public void ALogWithoutABaseIsCompactedOnceItHoldsTheMinimum()
    {
        var cache = new ProspectCache();
        cache.Fold(1, isBase: false, Entries(0, 10));

        Assert.True(cache.CompactionDue(minimumBytes: 640));
        Assert.False(cache.CompactionDue(minimumBytes: 641));
    }
}
