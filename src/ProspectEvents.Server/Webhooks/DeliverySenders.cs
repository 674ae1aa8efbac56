using System.Diagnostics;
using System.Threading.Channels;
using ProspectEvents.Server.Telemetry;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Webhooks;

/// <summary>
/// The second stage of delivery: a fixed pool of senders, one per slot, each taking a claimed delivery, POSTing it
/// through <see cref="WebhookSender"/>, judging the answer and queueing the outcome for the recorder. A sender frees
/// its slot only once the outcome is queued, and that queue is bounded: when recording falls behind, sending (and
/// so claiming) slows down with it. Unbounded, the sends ran ahead, and deliveries sent but not yet recorded outlived
/// their lease and were sent again.
/// </summary>
public sealed class DeliverySenders(WebhookSender sender, RetrySchedule schedule, FairShare share, TimeProvider clock, ILogger logger)
{
    /// <summary>Runs <paramref name="count"/> senders until <paramref name="claimed"/> is completed and drained.</summary>
    public Task RunAsync(int count, ChannelReader<ClaimedDelivery> claimed, ChannelWriter<AttemptOutcome> outcomes, Action slotFreed) =>
        Task.WhenAll(Enumerable.Range(0, count).Select(_ => Task.Run(() => SendAllAsync(claimed, outcomes, slotFreed))));

    private async Task SendAllAsync(ChannelReader<ClaimedDelivery> claimed, ChannelWriter<AttemptOutcome> outcomes, Action slotFreed)
    {
        // No cancellation: a delivery claimed is sent (each gives up at the timeout) and recorded, so a clean shutdown
        // sends nothing twice.
        while (await claimed.WaitToReadAsync())
        {
            while (claimed.TryRead(out var delivery))
            {
                try
                {
                    await outcomes.WriteAsync(await SendAsync(delivery));
                }
                catch (Exception e)
                {
                    // Not recorded: the lease runs out and the delivery is tried again.
                    Log.DeliveryAttemptCrashed(logger, e, delivery.DeliveryId, delivery.Event.EventId);
                }
                finally
                {
                    share.Finished(delivery.Webhook.WebhookId);
                    slotFreed();
                }
            }
        }
    }

    private async Task<AttemptOutcome> SendAsync(ClaimedDelivery delivery)
    {
        using var span = Instruments.Source.StartActivity("webhook delivery", ActivityKind.Client);
        var body = WebhookPayload.For(delivery);
        var attemptedAt = clock.GetUtcNow();
        var result = await sender.SendAsync(delivery.Webhook, delivery.DeliveryId, body, CancellationToken.None);
        var outcome = Judge(delivery, attemptedAt, result);
        Instruments.DeliveryAttempt(outcome.Delivered, outcome.Next is not null, result.Duration);
        if (span is not null) Describe(span, delivery, result, outcome);
        if (!outcome.Delivered)
            Log.DeliveryAttemptFailed(logger, delivery.DeliveryId, delivery.Event.EventId, delivery.PartnerId, delivery.Attempts + 1, result.Problem!, outcome.Next);
        return outcome;
    }

    /// <summary>The attempt's span: what was sent and how it went, by ids and numbers only (no URL, partner or secret).</summary>
    private static void Describe(Activity span, ClaimedDelivery delivery, SendResult result, AttemptOutcome outcome)
    {
        span.SetTag("prospect_events.delivery_id", delivery.DeliveryId);
        span.SetTag("prospect_events.event_name", delivery.Event.EventName);
        span.SetTag("prospect_events.attempt", delivery.Attempts + 1);
        span.SetTag("prospect_events.outcome", outcome.Delivered ? "delivered" : outcome.Next is not null ? "retried" : "failed");
        if (result.StatusCode is { } status) span.SetTag("http.response.status_code", status);
        if (!outcome.Delivered) span.SetStatus(ActivityStatusCode.Error, result.StatusCode is null ? "no answer" : $"HTTP {result.StatusCode}");
    }

    /// <summary>What an answer means for the delivery: delivered, due again (when), failed for good, or its webhook gone.</summary>
    private AttemptOutcome Judge(ClaimedDelivery delivery, DateTimeOffset attemptedAt, SendResult result)
    {
        if (result.Succeeded)
            return new AttemptOutcome(delivery, attemptedAt, result.Duration, result.StatusCode, null, result.Response, Delivered: true, Next: null, DisableWebhook: null);

        var delay = schedule.DelayAfterFailure(delivery.AttemptsThisRound + 1, result.RetryAfter, Random.Shared);
        var gone = result.StatusCode == 410 ? "the receiver answered 410 Gone" : null;
        return new AttemptOutcome(delivery, attemptedAt, result.Duration, result.StatusCode, result.Error, result.Response,
            Delivered: false, Next: delay is { } wait ? clock.GetUtcNow() + wait : null, DisableWebhook: gone);
    }
}
