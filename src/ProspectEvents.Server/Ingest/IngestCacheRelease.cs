using Microsoft.Extensions.Options;

namespace ProspectEvents.Server.Ingest;

/// <summary>
/// Gives back the ingest's prospect cache (about 120 bytes a known prospect) once no batch has begun for
/// <c>Ingest:CacheIdleTimeout</c>: a server that takes a snapshot a day should not hold it all day, while a steady feed
/// keeps it. The next batch loads it again from the observation log (a fraction of a second per million prospects).
/// </summary>
public sealed class IngestCacheRelease(IngestEngine ingest, TimeProvider clock, IOptions<IngestOptions> options, ILogger<IngestCacheRelease> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var idle = options.Value.CacheIdleTimeout;
        if (idle <= TimeSpan.Zero) return;
        var (seen, since) = (ingest.Batches, clock.GetUtcNow());
        using var timer = new PeriodicTimer(Period(idle), clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var batches = ingest.Batches;
            if (batches != seen)
            {
                (seen, since) = (batches, clock.GetUtcNow());
                continue;
            }
            if (clock.GetUtcNow() - since < idle || !await ingest.ReleaseCacheAsync(seen, stoppingToken)) continue;
            // The cache is a few large arrays: only a compacting collection hands their pages back to the OS.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            Log.IngestCacheReleased(logger, idle);
        }
    }

    /// <summary>How often to look: a quarter of the timeout, between a second and a minute.</summary>
    public static TimeSpan Period(TimeSpan idle) => TimeSpan.FromTicks(Math.Clamp(idle.Ticks / 4, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));
}
