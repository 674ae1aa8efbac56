using ProspectEvents.Server.Hosting;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Fanout;

/// <summary>
/// Keeps fan-out's prospect → enrollment index caught up with enrollment writes (<see cref="Store.IndexEnrollmentsAsync"/>).
/// Lagging is safe, only slower: matching reads the enrollments not yet indexed directly. So passes are small (the
/// SQLite writer is never held long), and while enrollments pour in faster than passes can index them, the indexer
/// holds back to one pass a second instead of competing with them; it catches up once they calm down.
/// </summary>
public sealed class EnrollmentIndexer(Store store, ProcessRegistry registry, TimeProvider clock, ILogger<EnrollmentIndexer> logger) : BackgroundService
{
    /// <summary>Enrollments per pass at most: some 500 prospect rows of v1 enrollments (20 ids a request).</summary>
    public const int PassSize = 25;

    /// <summary>
    /// Prospect rows per pass, about 10 ms of the SQLite writer on a large index: whole enrollments up to this many.
    /// Without it a pass of 25 v2 enrollments (1,000 ids a request) held the writer for some 200 ms once a second.
    /// </summary>
    public const int PassRows = 500;

    /// <summary>Between passes while catching up.</summary>
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(10);

    /// <summary>Between passes once caught up, while holding back, and after a failure.</summary>
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var (writes, since) = (store.EnrollmentWrites, clock.GetTimestamp());
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = Idle;
            try
            {
                var started = clock.GetTimestamp();
                // An outdated process leaves the index to a newer build.
                var pass = registry.Outdated ? new Store.IndexPass(0, CaughtUp: true) : await store.IndexEnrollmentsAsync(PassSize, stoppingToken, PassRows);
                if (!pass.CaughtUp)
                {
                    var writesPerSecond = (store.EnrollmentWrites - writes) / clock.GetElapsedTime(since).TotalSeconds;
                    var indexedPerSecond = pass.Enrollments / (clock.GetElapsedTime(started) + Pause).TotalSeconds;
                    if (writesPerSecond < indexedPerSecond) wait = Pause;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Database unreachable or busy: the next pass takes the same enrollments again.
                Log.EnrollmentIndexingFailed(logger, e);
            }
            (writes, since) = (store.EnrollmentWrites, clock.GetTimestamp());
            await Task.Delay(wait, clock, stoppingToken);
        }
    }
}
