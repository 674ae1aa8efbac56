using Microsoft.Extensions.Options;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Webhooks;

/// <summary>
/// Sends the outbox in three stages joined by bounded channels: <see cref="DeliveryClaimer"/> claims due deliveries
/// under a lease, <see cref="DeliverySenders"/> (one per <see cref="WebhookOptions.Concurrency"/> slot) POST them, and
/// <see cref="OutcomeRecorder"/> records the attempts in batches. A delivery is at least once: if this process dies
/// between the POST and the record, the lease runs out and the delivery is sent again, with the same <c>webhook-id</c>.
/// </summary>
public sealed class DeliveryDispatcher : BackgroundService
{
    private readonly FairShare _share;
    private readonly DeliveryClaimer _claimer;
    private readonly DeliverySenders _senders;
    private readonly OutcomeRecorder _recorder;
    private readonly int _slots;

    public DeliveryDispatcher(Store store, WebhookSender sender, IOptions<WebhookOptions> options, TimeProvider clock, ILogger<DeliveryDispatcher> logger)
    {
        var settings = options.Value;
        _slots = settings.Concurrency;
        _share = new FairShare(_slots);
        _claimer = new DeliveryClaimer(store, _share, _slots, settings.Lease, clock, logger);
        _senders = new DeliverySenders(sender, settings.Schedule, _share, clock, logger);
        _recorder = new OutcomeRecorder(store, settings.DisableAfter, clock, logger);
    }

    /// <summary>Deliveries claimed by this dispatcher whose outcome is not yet queued for recording.</summary>
    public int InFlight => _share.InFlight;

    /// <summary>Completes when a look at the outbox that started after this call has finished: what was due then has been claimed, if it could be.</summary>
    public Task NextClaimPassAsync() => _claimer.NextPassAsync();

    /// <summary>The wait after <paramref name="failures"/> transient database errors in a row: 250 ms, doubling, at most 8 s.</summary>
    internal static TimeSpan Backoff(int failures) => TimeSpan.FromMilliseconds(250 << Math.Clamp(failures - 1, 0, 5));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var recording = _recorder.RunAsync();
        var sending = _senders.RunAsync(_slots, _claimer.Claimed, _recorder.Outcomes, _claimer.SlotFreed);
        // Stopping: no new claims; the senders send what was claimed (each gives up at the timeout), and all of it is
        // recorded, so a clean shutdown sends nothing twice.
        await _claimer.RunAsync(stoppingToken);
        await sending;
        _recorder.Complete();
        await recording;
    }

    public override void Dispose()
    {
        _claimer.Dispose();
        base.Dispose();
    }
}
