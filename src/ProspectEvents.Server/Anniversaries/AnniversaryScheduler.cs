using Microsoft.Extensions.Options;
using ProspectEvents.Server.Hosting;
using ProspectEvents.Server.Telemetry;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Anniversaries;

/// <summary>
/// Runs the anniversary sweep once a day at <c>Anniversaries:RunAtUtc</c>, catching up on the days missed while
/// the service was down. Which days are done is kept in the database, so no day is swept twice, and several
/// processes sharing a PostgreSQL database take turns (the sweep holds an advisory lock).
/// </summary>
public sealed class AnniversaryScheduler(
    Store store, ProcessRegistry registry, TimeProvider clock, IOptions<AnniversaryOptions> options, ILogger<AnniversaryScheduler> logger)
    : BackgroundService
{
    private static readonly TimeSpan Pass = TimeSpan.FromMinutes(1);

    /// <summary>A service down for longer catches up on this many days only.</summary>
    public const int MaxCatchUpDays = 366;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Pass, clock);
        do
        {
            try
            {
                if (!registry.Outdated) await RunDueAsync(stoppingToken); // a newer build sweeps
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Database unreachable or busy: the next pass, a minute later, tries the same days again.
                Log.AnniversarySweepFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>
    /// Sweeps every due day not yet swept, oldest first, and returns the days this call swept (not those another
    /// process swept meanwhile). On the very first run only the latest due day is swept: history before the service
    /// existed is not replayed.
    /// </summary>
    public async Task<IReadOnlyList<DateOnly>> RunDueAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var latestDue = DateOnly.FromDateTime(now.UtcDateTime);
        if (now.UtcDateTime.TimeOfDay < options.Value.RunAtUtc) latestDue = latestDue.AddDays(-1);

        var first = await store.LastAnniversarySweepAsync(cancellationToken) is { } last ? last.AddDays(1) : latestDue;
        if (first < latestDue.AddDays(-MaxCatchUpDays)) first = latestDue.AddDays(-MaxCatchUpDays);

        var swept = new List<DateOnly>();
        for (var day = first; day <= latestDue; day = day.AddDays(1))
        {
            // Processes that start together may all find the day due: the first to take the lock sweeps it.
            if (await store.SweepAnniversariesOnceAsync(day, clock.GetUtcNow(), cancellationToken) is not { } events) continue;
            Instruments.EventsDetected(EventTypeNames.JobStartAnniversary, events);
            Log.AnniversariesSwept(logger, day, events);
            swept.Add(day);
        }
        return swept;
    }
}
