using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Webhooks;

/// <summary>
/// Sends the outbox: claims due deliveries under a lease (<see cref="Store.ClaimDeliveriesAsync"/>), POSTs up to
/// <see cref="WebhookOptions.Concurrency"/> at a time, and records the attempts in batches (one transaction for all
/// that finished meanwhile). A delivery is at least once: if this process dies between the POST and the record, the
/// lease runs out and the delivery is sent again, with the same <c>webhook-id</c>.
/// </summary>
public sealed class DeliveryDispatcher(Store store, WebhookSender sender, IOptions<WebhookOptions> options, TimeProvider clock, ILogger<DeliveryDispatcher> logger)
    : BackgroundService
{
    /// <summary>How often the outbox is looked at when there was nothing to send: the floor of detection-to-delivery latency.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private const int MaxClaim = 500;
    private const int MaxRecordBatch = 1000;

    /// <summary>
    /// Free slots worth a claim while requests are in flight. A claim is a write transaction (on PostgreSQL a commit
    /// that waits for the WAL flush) and walks the outbox index from the oldest due row; claiming each slot the moment
    /// it freed up made one claim per delivery under load (docs/benchmarks.md, "Webhook delivery"). Claims still
    /// never exceed the free slots, so no lease is held for a delivery that cannot be sent at once.
    /// </summary>
    private int WorthwhileClaim => Math.Max(1, _options.Concurrency / 4);

    private readonly WebhookOptions _options = options.Value;
    private readonly RetrySchedule _schedule = options.Value.Schedule;
    // Bounded: a send keeps its slot until its outcome is queued, so when recording falls behind, claiming slows down
    // with it. Unbounded, the sends ran ahead, and deliveries sent but not yet recorded outlived their lease and were
    // sent again (95,187 resends of a 200,000 backlog on PostgreSQL, docs/benchmarks.md, "Webhook delivery").
    private readonly Channel<AttemptOutcome> _outcomes = Channel.CreateBounded<AttemptOutcome>(
        new BoundedChannelOptions(MaxRecordBatch) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly SemaphoreSlim _wake = new(0);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var slots = new SemaphoreSlim(_options.Concurrency);
        var sends = new ConcurrentDictionary<Task, bool>();
        var recorder = RecordAsync();
        List<string> partners = [];
        var partnersReadAt = 0L;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (slots.CurrentCount < WorthwhileClaim)
            {
                await Delay(PollInterval, wakeOnSend: true, stoppingToken);
                continue;
            }

            var claimed = 0;
            try
            {
                var now = clock.GetUtcNow();
                // While claims succeed, the partners with due deliveries are looked up again only once per poll
                // interval: the lookup walks the outbox index past every row sent since the last vacuum, and before
                // each claim it took 40 % of PostgreSQL's time (docs/benchmarks.md, "Webhook delivery"). A partner
                // whose deliveries fall due meanwhile waits at most that long for its share.
                if (partners.Count == 0 || Stopwatch.GetElapsedTime(partnersReadAt) >= PollInterval)
                {
                    partners = await store.PartnersWithDueDeliveriesAsync(now, stoppingToken);
                    partnersReadAt = Stopwatch.GetTimestamp();
                }

                // A fair share of the free slots for each partner with due deliveries, so one webhook's backlog (or
                // slow receiver) cannot take every slot.
                var share = partners.Count == 0 ? 0 : Math.Max(1, slots.CurrentCount / partners.Count);
                foreach (var partner in partners)
                {
                    var room = Math.Min(Math.Min(share, slots.CurrentCount), MaxClaim);
                    if (room <= 0) break;
                    foreach (var delivery in await store.ClaimDeliveriesAsync(partner, room, now, now + _options.Lease, stoppingToken))
                    {
                        await slots.WaitAsync(stoppingToken);
                        var send = SendAsync(delivery, slots);
                        sends[send] = true;
                        _ = send.ContinueWith(done => sends.TryRemove(done, out _), TaskScheduler.Default);
                        claimed++;
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                Log.DeliveryClaimFailed(logger, e);
                await Delay(TimeSpan.FromSeconds(1), wakeOnSend: false, stoppingToken);
                continue;
            }
            // Claimed some: there may be more due now, once a slot frees up. Claimed none: nothing is due, and a send
            // finishing does not change that, so wait for the next look (waking on every finished send made about one
            // partner lookup per delivery at 1,000 events/s, docs/benchmarks.md, "Webhook delivery").
            if (claimed == 0)
            {
                partners = [];
                await Delay(PollInterval, wakeOnSend: false, stoppingToken);
            }
            else if (slots.CurrentCount == 0)
            {
                await Delay(PollInterval, wakeOnSend: true, stoppingToken);
            }
        }

        // Stopping: no new claims; let the requests in flight finish (each gives up at the timeout) and record them,
        // so a clean shutdown sends nothing twice.
        await Task.WhenAll(sends.Keys);
        _outcomes.Writer.Complete();
        await recorder;
    }

    /// <summary>Waits <paramref name="delay"/>; with <paramref name="wakeOnSend"/>, a send finishing (a slot freed up) ends the wait early.</summary>
    private async Task Delay(TimeSpan delay, bool wakeOnSend, CancellationToken stoppingToken)
    {
        try
        {
            if (wakeOnSend) await _wake.WaitAsync(delay, stoppingToken);
            else await Task.Delay(delay, stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task SendAsync(ClaimedDelivery delivery, SemaphoreSlim slots)
    {
        await Task.Yield();
        try
        {
            var body = WebhookPayload.For(delivery.Event, delivery.PartnerId, delivery.EnrollmentKey, delivery.Webhook.PayloadFormat);
            var attemptedAt = clock.GetUtcNow();
            var result = await sender.SendAsync(delivery.Webhook, delivery.DeliveryId, body, CancellationToken.None);
            var outcome = Judge(delivery, attemptedAt, result);
            if (!outcome.Delivered)
                Log.DeliveryAttemptFailed(logger, delivery.DeliveryId, delivery.Event.EventId, delivery.PartnerId, delivery.Attempts + 1, result.Problem!, outcome.Next);
            await _outcomes.Writer.WriteAsync(outcome);
        }
        catch (Exception e)
        {
            // Not recorded: the lease runs out and the delivery is tried again.
            Log.DeliveryAttemptCrashed(logger, e, delivery.DeliveryId, delivery.Event.EventId);
        }
        finally
        {
            slots.Release();
            // One pending wake is enough: counting one per send let the loop run that many passes without waiting.
            if (_wake.CurrentCount == 0) _wake.Release();
        }
    }

    /// <summary>What an answer means for the delivery: delivered, due again (when), failed for good, or its webhook gone.</summary>
    private AttemptOutcome Judge(ClaimedDelivery delivery, DateTimeOffset attemptedAt, SendResult result)
    {
        if (result.Succeeded)
            return new AttemptOutcome(delivery, attemptedAt, result.Duration, result.StatusCode, null, result.Response, Delivered: true, Next: null, DisableWebhook: null);

        var delay = _schedule.DelayAfterFailure(delivery.AttemptsThisRound + 1, result.RetryAfter, Random.Shared);
        var gone = result.StatusCode == 410 ? "the receiver answered 410 Gone" : null;
        return new AttemptOutcome(delivery, attemptedAt, result.Duration, result.StatusCode, result.Error, result.Response,
            Delivered: false, Next: delay is { } wait ? clock.GetUtcNow() + wait : null, DisableWebhook: gone);
    }

    /// <summary>Writes the outcomes as they come, all that have arrived in one transaction; a failed write is retried, never dropped.</summary>
    private async Task RecordAsync()
    {
        var batch = new List<AttemptOutcome>();
        while (await _outcomes.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxRecordBatch && _outcomes.Reader.TryRead(out var outcome)) batch.Add(outcome);
            try
            {
                foreach (var (partner, reason) in await store.RecordAttemptsAsync(batch, _options.DisableAfter, CancellationToken.None))
                    Log.WebhookDisabled(logger, partner, reason);
                batch.Clear();
            }
            catch (Exception e)
            {
                Log.DeliveryRecordFailed(logger, e, batch.Count);
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }
}
