using System.Runtime.CompilerServices;
using ProspectEvents.Detection;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Storage;

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
}
