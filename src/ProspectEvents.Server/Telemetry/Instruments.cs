using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ProspectEvents.Server.Telemetry;

/// <summary>
/// The server's own metrics and spans, under the meter and activity source <c>ProspectEvents</c> (docs/telemetry.md).
/// Recorded once per batch or attempt, never per observation; with no listener each call is a flag check. Tag values
/// come from small fixed sets (outcomes, event names): no partner id, key or URL is ever one.
/// </summary>
public static class Instruments
{
    public const string Name = "ProspectEvents";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> Observations = Meter.CreateCounter<long>("prospect_events.observations", "{observation}",
        "Observations ingested, by outcome: taken (applied), stale (not newer than the known state) or rejected (a bad line).");

    private static readonly Counter<long> Events = Meter.CreateCounter<long>("prospect_events.events", "{event}",
        "Career events detected and stored for the first time, by event_name.");

    private static readonly Counter<long> Deliveries = Meter.CreateCounter<long>("prospect_events.deliveries", "{delivery}",
        "Webhook delivery attempts, by outcome: delivered (2xx), retried (due again later) or failed (no attempt left, or the webhook gone).");

    // Seconds from 5 ms to the 15 s default webhook timeout and past it; the SDK's default buckets are for milliseconds.
    private static readonly InstrumentAdvice<double> SecondsBuckets = new()
    {
        HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60],
    };

    private static readonly Histogram<double> DeliveryDuration = Meter.CreateHistogram("prospect_events.delivery.duration", "s",
        "How long a webhook receiver took to answer one delivery attempt (or to time out).", advice: SecondsBuckets);

    private static readonly Histogram<double> IngestBatchDuration = Meter.CreateHistogram("prospect_events.ingest.batch.duration", "s",
        "How long writing one ingest batch took: judging, detecting and committing it.", advice: SecondsBuckets);

    public const string OutboxPending = "prospect_events.outbox.pending";
    public const string OutboxOldestPendingAge = "prospect_events.outbox.oldest_pending_age";

    private static readonly KeyValuePair<string, object?> Taken = new("outcome", "taken");
    private static readonly KeyValuePair<string, object?> Stale = new("outcome", "stale");
    private static readonly KeyValuePair<string, object?> Rejected = new("outcome", "rejected");
    private static readonly KeyValuePair<string, object?> Delivered = new("outcome", "delivered");
    private static readonly KeyValuePair<string, object?> Retried = new("outcome", "retried");
    private static readonly KeyValuePair<string, object?> Failed = new("outcome", "failed");

    /// <summary>A committed ingest batch: its observations by outcome, its new events by name, and how long it took.</summary>
    public static void IngestBatch(int observations, int stale, IReadOnlyDictionary<string, int> newEvents, TimeSpan duration)
    {
        if (observations > stale) Observations.Add(observations - stale, Taken);
        if (stale > 0) Observations.Add(stale, Stale);
        foreach (var (name, count) in newEvents) EventsDetected(name, count);
        IngestBatchDuration.Record(duration.TotalSeconds);
    }

    /// <summary>Lines of an ingest input rejected as bad.</summary>
    public static void ObservationsRejected(long count)
    {
        if (count > 0) Observations.Add(count, Rejected);
    }

    /// <summary>Events stored for the first time, outside ingest (the anniversary sweep).</summary>
    public static void EventsDetected(string eventName, int count)
    {
        if (count > 0) Events.Add(count, new KeyValuePair<string, object?>("event_name", eventName));
    }

    /// <summary>One delivery attempt: delivered, due again (<paramref name="retried"/>), or failed for good.</summary>
    public static void DeliveryAttempt(bool delivered, bool retried, TimeSpan duration)
    {
        Deliveries.Add(1, delivered ? Delivered : retried ? Retried : Failed);
        DeliveryDuration.Record(duration.TotalSeconds);
    }
}
