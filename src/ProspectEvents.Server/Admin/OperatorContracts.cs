using System.ComponentModel;
using ProspectEvents.Server.Http;

namespace ProspectEvents.Server.Admin;

/// <summary>Events detected per UTC day, one entry per day of the window (days without events included), oldest first.</summary>
public sealed record EventsPerDayResult(
    ResponseContext ResponseContext,
    int Days,
    [property: Description("The first UTC day of the window.")] DateOnly From,
    [property: Description("The last UTC day of the window: today.")] DateOnly To,
    [property: Description("The event names each day counts, every one of them present in each day's counts.")] IReadOnlyList<string> EventTypes,
    IReadOnlyList<DayView> PerDay)
{
    public const int DefaultDays = 30, MaxDays = 366;
}

/// <summary>One UTC day: the events detected on it, in all and by event name.</summary>
public sealed record DayView(DateOnly Date, long Total, IReadOnlyDictionary<string, long> Counts);

/// <summary>The latest ingests, newest first.</summary>
public sealed record IngestRunList(ResponseContext ResponseContext, IReadOnlyList<IngestRunView> Ingests)
{
    public const int DefaultLimit = 20, MaxLimit = 1_000;
}

/// <summary>One ingest as it ended: what it took, how fast, from where.</summary>
public sealed record IngestRunView(
    [property: Description("http (POST /v1/admin/observations) or cli (the ingest verb).")] string Source,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    long Observations,
    long Rejected,
    long Stale,
    long Events,
    double Seconds,
    [property: Description("Lines read (observations and rejected) per second.")] double LinesPerSecond,
    [property: Description("Set when the input broke off: what broke.")] string? Error);

/// <summary>Every registered webhook's health.</summary>
public sealed record WebhookHealthList(ResponseContext ResponseContext, IReadOnlyList<WebhookHealthView> Webhooks);

/// <summary>A webhook's state, its backlog, and its attempts over the last hour and day.</summary>
public sealed record WebhookHealthView(
    string WebhookId,
    string PartnerId,
    string PartnerName,
    [property: Description("True for the partner's v1 webhook (/v1/webhooks/{partner_id}).")] bool Legacy,
    string Name,
    string WebhookUrl,
    [property: Description("enabled or disabled.")] string Status,
    DateTimeOffset? DisabledAt,
    [property: Description("Why it was disabled: the receiver answered 410, every attempt failed for Webhooks:DisableAfter, or by its owner.")] string? DisabledReason,
    [property: Description("Start of the current run of failed attempts; null after a success.")] DateTimeOffset? FailingSince,
    [property: Description("Deliveries not yet delivered nor failed.")] long Pending,
    [property: Description("Dead letters: deliveries that exhausted the retry schedule, to replay.")] long Failed,
    [property: Description("How long the oldest due delivery has waited, in seconds (null: none due).")] double? OldestPendingAgeSeconds,
    AttemptWindowView LastHour,
    AttemptWindowView LastDay);

/// <summary>Attempts in a window: answered 2xx, or not (another status, a timeout, a refused connection).</summary>
public sealed record AttemptWindowView(long Delivered, long Failed, [property: Description("95th percentile of the attempts' durations; null without attempts.")] long? P95LatencyMs);

/// <summary>The latest failed deliveries over all partners.</summary>
public sealed record FailedDeliveryList(ResponseContext ResponseContext, IReadOnlyList<FailedDeliveryView> Deliveries)
{
    public const int DefaultLimit = 50, MaxLimit = 1_000;
}

/// <summary>A dead letter: its partner, webhook and event, and why its last attempt failed.</summary>
public sealed record FailedDeliveryView(
    string DeliveryId,
    string PartnerId,
    string PartnerName,
    string WebhookId,
    [property: Description("Null when the webhook was deleted since.")] string? WebhookName,
    string EventId,
    string EventName,
    string ProspectId,
    string EnrollmentKey,
    int Attempts,
    DateTimeOffset? FailedAt,
    [property: Description("The HTTP status of the last attempt; null when no answer came.")] int? LastStatusCode,
    string? LastError);
