using System.Threading.Channels;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Webhooks;

/// <summary>
/// The first stage of delivery: looks at the outbox on a timer (and at once when this process writes new work, or a
/// send slot frees up while it waits for one), claims due deliveries under a lease
/// (<see cref="Store.ClaimDeliveriesAsync"/>) as far as <see cref="FairShare"/> allows, and hands them to the senders.
/// It never claims more than there are free slots, so no lease is held for a delivery that cannot be sent at once.
/// </summary>
public sealed class DeliveryClaimer : IDisposable
{
    /// <summary>How often the outbox is looked at when there was nothing to send: the floor of detection-to-delivery latency for work written elsewhere.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private const int MaxClaim = 500;

    private readonly Store _store;
    private readonly FairShare _share;
    private readonly TimeSpan _lease;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Channel<ClaimedDelivery> _claimed;
    private readonly Signal _outboxWritten = new();
    private readonly Signal _slotFreed = new();
    private readonly Signal _passed = new();
    private volatile bool _lookAgain;

    public DeliveryClaimer(Store store, FairShare share, int slots, TimeSpan lease, TimeProvider clock, ILogger logger)
    {
        _store = store;
        _share = share;
        _lease = lease;
        _clock = clock;
        _logger = logger;
        WorthwhileClaim = Math.Max(1, slots / 4);
        // Never full: claims stay within the free slots, and every slot is a sender reading here.
        _claimed = Channel.CreateBounded<ClaimedDelivery>(new BoundedChannelOptions(Math.Max(slots, 1)) { SingleWriter = true });
        store.OutboxWritten += OnOutboxWritten;
    }

    /// <summary>
    /// Free slots worth a claim while requests are in flight. A claim is a write transaction (on PostgreSQL a commit
    /// that waits for the WAL flush) and walks the outbox index from the oldest due row; claiming each slot the moment
    /// it freed up made one claim per delivery under load.
    /// </summary>
    private int WorthwhileClaim { get; }

    /// <summary>The claimed deliveries, for the senders; completed when the claimer stops.</summary>
    public ChannelReader<ClaimedDelivery> Claimed => _claimed.Reader;

    /// <summary>Completes when a look at the outbox that starts after this call has finished (claiming or not).</summary>
    public async Task NextPassAsync()
    {
        await _passed.Next; // the pass under way, which may have started before this call
        await _passed.Next;
    }

    /// <summary>A sender is done with a delivery: a claim waiting for free slots may go ahead.</summary>
    public void SlotFreed()
    {
        if (_share.Free >= WorthwhileClaim) _slotFreed.Set();
    }

    private void OnOutboxWritten()
    {
        _lookAgain = true;
        _outboxWritten.Set();
    }

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PollInterval, _clock);
        Task<bool>? tick = null;
        List<string> webhooks = [];
        var webhooksReadAt = 0L;
        var failures = 0;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // Taken before looking, so a signal that comes during the pass is not lost.
                var written = _outboxWritten.Next;
                var freed = _slotFreed.Next;
                var claimed = 0;
                if (_share.Free >= WorthwhileClaim)
                {
                    try
                    {
                        var now = _clock.GetUtcNow();
                        // While claims succeed, the webhooks with due deliveries are looked up again only once per poll
                        // interval (or when this process wrote new work): the lookup walks the outbox index past every
                        // row sent since the last vacuum, and before each claim it was much of PostgreSQL's time.
                        if (webhooks.Count == 0 || _lookAgain || _clock.GetElapsedTime(webhooksReadAt) >= PollInterval)
                        {
                            _lookAgain = false;
                            webhooks = await _store.WebhooksWithDueDeliveriesAsync(now, stoppingToken);
                            webhooksReadAt = _clock.GetTimestamp();
                        }
                        foreach (var (webhook, room) in _share.Plan(webhooks, MaxClaim))
                        {
                            // The lease counts from the claim itself: a claim that queued behind other writes still holds it whole.
                            var claimedAt = _clock.GetUtcNow();
                            foreach (var delivery in await _store.ClaimDeliveriesAsync(webhook, room, claimedAt, claimedAt + _lease, stoppingToken))
                            {
                                _share.Started(webhook);
                                await _claimed.Writer.WriteAsync(delivery, CancellationToken.None);
                                claimed++;
                            }
                        }
                        failures = 0;
                    }
                    catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                    {
                        break;
                    }
                    catch (Exception e)
                    {
                        var transient = _store.IsTransient(e);
                        var wait = transient ? DeliveryDispatcher.Backoff(++failures) : TimeSpan.FromSeconds(1);
                        if (transient) Log.DeliveryClaimDeferred(_logger, e, wait);
                        else Log.DeliveryClaimFailed(_logger, e);
                        webhooks = [];
                        await DelayAsync(wait, stoppingToken);
                        continue;
                    }
                    finally
                    {
                        _passed.Set();
                    }
                }

                var waitingForSlots = _share.Free < WorthwhileClaim;
                if (claimed > 0 && !waitingForSlots) continue; // there may be more due now
                // Claimed none: nothing is due, and a send finishing does not change that, so only the timer or new work
                // ends the wait (waking on every finished send made about one webhook lookup per delivery).
                if (claimed == 0 && !waitingForSlots) webhooks = [];
                tick ??= timer.WaitForNextTickAsync(stoppingToken).AsTask();
                await (waitingForSlots ? Task.WhenAny(tick, written, freed) : Task.WhenAny(tick, written));
                if (tick.IsCompleted)
                {
                    if (tick.IsCanceled || !tick.Result) break;
                    tick = null;
                }
            }
        }
        finally
        {
            _claimed.Writer.Complete();
        }
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(delay, _clock, stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose() => _store.OutboxWritten -= OnOutboxWritten;

    /// <summary>A wake-up that any number of waiters can take (<see cref="Next"/>) before it is given (<see cref="Set"/>).</summary>
    private sealed class Signal
    {
        private TaskCompletionSource _next = New();

        public Task Next => Volatile.Read(ref _next).Task;

        public void Set() => Interlocked.Exchange(ref _next, New()).TrySetResult();

        private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
