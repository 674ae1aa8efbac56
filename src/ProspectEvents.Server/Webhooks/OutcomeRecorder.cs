using System.Threading.Channels;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Webhooks;

/// <summary>
/// The last stage of delivery: writes the attempts' outcomes as they come, all that have arrived in one transaction
/// (<see cref="Store.RecordAttemptsAsync"/>). Failures are classified by the store (<see cref="Store.IsTransient"/>):
/// a transient one (the database unreachable, locked, busy) keeps the batch and retries it with back-off, while the
/// bounded queue holds the senders back, so nothing is lost or sent twice; one a retry cannot fix is narrowed down
/// by writing the outcomes one by one, and an outcome that still fails is isolated: its delivery is ended without
/// the attempt row (<see cref="Store.ParkDeliveryAsync"/>) and logged, and the rest flow.
/// </summary>
public sealed class OutcomeRecorder(Store store, TimeSpan disableAfter, TimeProvider clock, ILogger logger)
{
    private const int MaxBatch = 1000;

    /// <summary>When stopping, a batch the database keeps refusing is given up after this many tries: the leases take over.</summary>
    private const int TriesWhenStopping = 3;

    private readonly Channel<AttemptOutcome> _outcomes = Channel.CreateBounded<AttemptOutcome>(
        new BoundedChannelOptions(MaxBatch) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    /// <summary>Where the senders queue outcomes; bounded, so they wait when recording falls behind. Complete it to stop.</summary>
    public ChannelWriter<AttemptOutcome> Outcomes => _outcomes.Writer;

    public async Task RunAsync()
    {
        var batch = new List<AttemptOutcome>();
        var failures = 0;
        while (batch.Count > 0 || await _outcomes.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && _outcomes.Reader.TryRead(out var outcome)) batch.Add(outcome);
            try
            {
                await RecordAsync(batch);
                batch.Clear();
                failures = 0;
                continue;
            }
            catch (Exception e) when (store.IsTransient(e))
            {
                if (GiveUp(batch, ++failures)) continue;
                var wait = DeliveryDispatcher.Backoff(failures);
                Log.DeliveryRecordDeferred(logger, e, batch.Count, wait);
                await Task.Delay(wait, clock);
            }
            catch (Exception e)
            {
                Log.DeliveryRecordFailed(logger, e, batch.Count);
                batch = await IsolateAsync(batch);
                if (batch.Count == 0)
                {
                    failures = 0;
                    continue;
                }
                // What is left met a transient error on its own: the database went away meanwhile.
                if (GiveUp(batch, ++failures)) continue;
                await Task.Delay(DeliveryDispatcher.Backoff(failures), clock);
            }
        }
    }

    /// <summary>When stopping, drops a batch that failed <see cref="TriesWhenStopping"/> times (logging each delivery); true if it did.</summary>
    private bool GiveUp(List<AttemptOutcome> batch, int failures)
    {
        if (!_stopping || failures < TriesWhenStopping) return false;
        foreach (var dropped in batch) Log.DeliveryRecordDropped(logger, dropped.Delivery.DeliveryId, dropped.Delivery.Event.EventId);
        batch.Clear();
        return true;
    }

    private volatile bool _stopping;

    /// <summary>No more outcomes will come: record what is queued, then end <see cref="RunAsync"/>.</summary>
    public void Complete()
    {
        _stopping = true;
        _outcomes.Writer.Complete();
    }

    private async Task RecordAsync(IReadOnlyList<AttemptOutcome> batch)
    {
        foreach (var (partner, webhook, reason) in await store.RecordAttemptsAsync(batch, disableAfter, CancellationToken.None))
            Log.WebhookDisabled(logger, webhook, partner, reason);
    }

    /// <summary>Records each outcome on its own and isolates those that fail for good; returns those that met a transient error.</summary>
    private async Task<List<AttemptOutcome>> IsolateAsync(List<AttemptOutcome> batch)
    {
        var retry = new List<AttemptOutcome>();
        foreach (var outcome in batch)
        {
            try
            {
                await RecordAsync([outcome]);
            }
            catch (Exception e) when (store.IsTransient(e))
            {
                retry.Add(outcome);
            }
            catch (Exception e)
            {
                await ParkAsync(outcome, e, retry);
            }
        }
        return retry;
    }

    private async Task ParkAsync(AttemptOutcome outcome, Exception error, List<AttemptOutcome> retry)
    {
        var delivery = outcome.Delivery;
        try
        {
            // False: the lease ran out and another claim owns the delivery; nothing of this attempt is left to write.
            if (await store.ParkDeliveryAsync(outcome, CancellationToken.None))
                Log.DeliveryIsolated(logger, error, delivery.DeliveryId, delivery.Event.EventId, outcome.Delivered ? "delivered" : "failed");
        }
        catch (Exception e) when (store.IsTransient(e))
        {
            retry.Add(outcome);
        }
        catch (Exception)
        {
            // Its delivery row itself cannot be written: sent again when its lease ends, as after a crash.
            Log.DeliveryRecordDropped(logger, delivery.DeliveryId, delivery.Event.EventId);
        }
    }
}
