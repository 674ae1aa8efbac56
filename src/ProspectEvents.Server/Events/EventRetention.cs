using Microsoft.Extensions.Options;
using ProspectEvents.Server.Hosting;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Events;

/// <summary>
/// The retention job of the <c>scheduler</c> role: at start and then every hour it asks whether a pass is due (once a
/// day across every process sharing the database, <see cref="Store.StartRetentionPassAsync"/>), and a due pass deletes
/// the events older than <c>Events:RetentionDays</c> with what was derived from them, in short batches
/// (<see cref="Store.DeleteExpiredEventsAsync"/>), so it never holds the SQLite writer or a PostgreSQL lock for long.
/// </summary>
public sealed class EventRetention(Store store, ProcessRegistry registry, TimeProvider clock, IOptions<EventOptions> options, ILogger<EventRetention> logger)
    : BackgroundService
{
    /// <summary>How often a process asks whether a pass is due.</summary>
    private static readonly TimeSpan Check = TimeSpan.FromHours(1);

    /// <summary>A pass is due once the cutoff has moved this far since the latest pass.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromDays(1);

    /// <summary>An unfinished pass that has not moved for this long died with its process (or failed), and is taken over.</summary>
    public static readonly TimeSpan Stalled = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Events looked at per batch. 1,000 events took 30–200 ms of the SQLite writer (15–85 ms on PostgreSQL) on the
    /// 2-core box under a load average of 40; half that keeps the writer's other callers waiting half as long.
    /// </summary>
    public const int BatchSize = 500;

    /// <summary>Between batches, so the other writers of the database get their turn.</summary>
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.RetentionDays == 0) return; // events are kept for good
        using var timer = new PeriodicTimer(Check, clock);
        do
        {
            try
            {
                if (!registry.Outdated) await RunDueAsync(stoppingToken); // a newer build keeps the events
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Database unreachable or busy: the pass stops moving, and a check (of this process or another) takes it over.
                Log.RetentionPassFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Runs a pass if one is due and no other process is running one; returns what it deleted, or null when none was due.</summary>
    public async Task<Store.RetentionPass?> RunDueAsync(CancellationToken cancellationToken)
    {
        var days = options.Value.RetentionDays;
        if (days == 0) return null;
        var started = clock.GetUtcNow();
        var cutoff = started - TimeSpan.FromDays(days);
        if (await store.StartRetentionPassAsync(started, cutoff, Interval, Stalled, cancellationToken) is not { } pass) return null;

        long events = 0, deliveries = 0, expired = 0;
        Store.RetentionCursor? after = null;
        do
        {
            var batch = await store.DeleteExpiredEventsAsync(pass, cutoff, after, BatchSize, clock.GetUtcNow(), cancellationToken);
            (events, deliveries, expired, after) = (events + batch.Events, deliveries + batch.Deliveries, expired + batch.Expired, batch.Next);
            if (after is not null) await Task.Delay(Pause, clock, cancellationToken);
        }
        while (after is not null);

        var finished = clock.GetUtcNow();
        await store.FinishRetentionPassAsync(pass, finished, cancellationToken);
        Log.RetentionPassed(logger, cutoff, events, deliveries, expired, days);
        return new Store.RetentionPass(pass, started, cutoff, finished, events, deliveries, expired);
    }
}
