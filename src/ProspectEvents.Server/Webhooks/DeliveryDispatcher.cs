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
    private readonly ConcurrentDictionary<string, int> _inFlight = new(StringComparer.Ordinal);
    private int _passes;

    private int InFlight(string partnerId) => _inFlight.TryGetValue(partnerId, out var n) ? n : 0;

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

                // Each partner with due deliveries may have its share of all slots in flight, counting the requests it
                // has in flight already, so one webhook's backlog or slow receiver cannot hold every slot while others
                // wait. The first partner served moves round each pass, so leftovers rotate too.
                var share = partners.Count == 0 ? 0 : (_options.Concurrency + partners.Count - 1) / partners.Count;
                var first = partners.Count == 0 ? 0 : (int)(unchecked((uint)_passes++) % (uint)partners.Count);
                foreach (var partner in partners.Skip(first).Concat(partners.Take(first)))
                {
                    var room = Math.Min(Math.Min(share - InFlight(partner), slots.CurrentCount), MaxClaim);
                    if (room <= 0) continue;
                    // The lease counts from the claim itself: a claim that queued behind other writes still holds it whole.
                    var claimedAt = clock.GetUtcNow();
                    foreach (var delivery in await store.ClaimDeliveriesAsync(partner, room, claimedAt, claimedAt + _options.Lease, stoppingToken))
                    {
                        await slots.WaitAsync(stoppingToken);
                        _inFlight.AddOrUpdate(partner, 1, (_, n) => n + 1);
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
        _stopping = true;
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
            _inFlight.AddOrUpdate(delivery.PartnerId, 0, (_, n) => n - 1);
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

    /// <summary>
    /// Writes the outcomes as they come, all that have arrived in one transaction. A batch that fails is retried a
    /// second later; after <see cref="FailuresBeforeIsolating"/> failures in a row its outcomes are written one by one,
    /// so one that cannot be written (a poison row) is dropped alone: its delivery is sent again when its lease ends.
    /// If none can be written and the database does not answer, it is down: the batch is kept, and meanwhile the
    /// bounded queue stops the sending. When stopping, a batch is given up after as many rounds, for the same leases to take over.
    /// </summary>
    private async Task RecordAsync()
    {
        var batch = new List<AttemptOutcome>();
        var failures = 0;
        while (batch.Count > 0 || await _outcomes.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxRecordBatch && _outcomes.Reader.TryRead(out var outcome)) batch.Add(outcome);
            try
            {
                await RecordBatchAsync(batch);
                batch.Clear();
                failures = 0;
                continue;
            }
            catch (Exception e)
            {
                Log.DeliveryRecordFailed(logger, e, batch.Count);
            }
            if (++failures >= FailuresBeforeIsolating)
            {
                var unwritten = await RecordOneByOneAsync(batch);
                // Some written, or the database answers: the rest are poison, not an outage.
                if (unwritten.Count < batch.Count || _stopping || await DatabaseAnswersAsync())
                {
                    foreach (var dropped in unwritten) Log.DeliveryRecordDropped(logger, dropped.Delivery.DeliveryId, dropped.Delivery.Event.EventId);
                    batch.Clear();
                    failures = 0;
                    continue;
                }
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    private const int FailuresBeforeIsolating = 3;

    private async Task<bool> DatabaseAnswersAsync()
    {
        try
        {
            return await store.PingAsync(CancellationToken.None);
        }
        catch (Exception)
        {
            return false;
        }
    }

    private volatile bool _stopping;

    private async Task RecordBatchAsync(IReadOnlyList<AttemptOutcome> batch)
    {
        foreach (var (partner, reason) in await store.RecordAttemptsAsync(batch, _options.DisableAfter, CancellationToken.None))
            Log.WebhookDisabled(logger, partner, reason);
    }

    /// <summary>Records each outcome on its own; returns those that could not be.</summary>
    private async Task<List<AttemptOutcome>> RecordOneByOneAsync(List<AttemptOutcome> batch)
    {
        var unwritten = new List<AttemptOutcome>();
        foreach (var outcome in batch)
        {
            try
            {
                await RecordBatchAsync([outcome]);
            }
            catch (Exception)
            {
                unwritten.Add(outcome);
            }
        }
        return unwritten;
    }
}
