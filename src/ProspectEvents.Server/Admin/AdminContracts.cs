using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using ProspectEvents.Server.Http;

namespace ProspectEvents.Server.Admin;

public sealed record CreatePartnerBody([property: Required, MinLength(1), MaxLength(200)] string Name, [property: AllowedValues("partner", "admin")] string? Scope = null);

public sealed record CreateKeyBody([property: AllowedValues("partner", "admin")] string? Scope = null);

/// <summary>A new partner and its first key; the secret is shown only here.</summary>
public sealed record PartnerCreated(ResponseContext ResponseContext, string PartnerId, string KeyId, string ApiKey, string Scope);

public sealed record KeyCreated(ResponseContext ResponseContext, string PartnerId, string KeyId, string ApiKey, string Scope);

public sealed record AdminStats(
    ResponseContext ResponseContext, string StorageProvider, long Partners, long Enrollments, long MonitoredProspects, long Events,
    [property: Description("Event-enrollment pairs matched at detection; each is owed one webhook delivery.")] long EventMatches,
    [property: Description("Enrollments the fan-out indexer has not reached yet; matching reads them directly, so a backlog only slows it.")] long UnindexedEnrollments,
    [property: Description("The latest events detected, newest first (at most 20).")] IReadOnlyList<RecentEventView> RecentEvents,
    [property: Description("Deliveries not yet delivered nor failed, over all partners.")] long PendingDeliveries,
    [property: Description("Deliveries that exhausted the retry schedule (dead letters), over all partners.")] long FailedDeliveries,
    [property: Description("Per webhook with pending or failed deliveries.")] IReadOnlyList<DeliveryBacklogView> Deliveries,
    [property: Description("The retention job: its setting and its latest pass.")] RetentionView Retention)
{
    public const int MaxRecentEvents = 20;
}

/// <summary>An event and the number of active enrollments it matched when it was detected.</summary>
public sealed record RecentEventView(string EventId, string EventName, string ProspectId, DateTimeOffset DetectedAt, long Matches);

/// <summary>A webhook's delivery backlog: <c>oldest_due_age_seconds</c> is how long the oldest due delivery has waited (null: none due).</summary>
public sealed record DeliveryBacklogView(
    string PartnerId,
    [property: Description("The webhook: enabled, disabled, or none (the v1 webhook not registered: deliveries wait for a registration).")] string Webhook,
    long Pending,
    long Failed,
    double? OldestDueAgeSeconds,
    string WebhookId);

/// <summary>The retention job's setting (<c>Events:RetentionDays</c>, 0: events are kept for good) and its latest pass.</summary>
public sealed record RetentionView(
    int RetentionDays,
    [property: Description("The latest pass of any process (null: none has run yet).")] RetentionPassView? LatestPass);

/// <summary>One retention pass; <c>finished_at</c> is null while it runs (or when it died, until another takes over).</summary>
public sealed record RetentionPassView(
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    [property: Description("Events whose event_time and detected_at were both before this were deleted.")] DateTimeOffset Cutoff,
    long EventsDeleted,
    [property: Description("Deliveries deleted with their events, whatever their status.")] long DeliveriesDeleted,
    [property: Description("Of those, the ones still pending: no webhook took them for the whole retention (disabled or not registered).")] long DeliveriesExpired);

public sealed record HealthStatus(string Status);

public sealed record RejectedLineView(long Line, string Error);

/// <summary>
/// The counts of an ingest and its first rejected lines (<see cref="MaxListed"/> at most); with <c>error</c> and
/// <c>error_line</c> (answered 422) when the input broke off: the counts are then those of the batches committed before.
/// </summary>
public sealed record IngestResult(
    ResponseContext ResponseContext, long Observations, long Rejected, long Stale, long Events, double Seconds,
    IReadOnlyList<RejectedLineView> RejectedLines, bool RejectedLinesTruncated,
    [property: Description("Only when the input broke off (422): what broke (a truncated or corrupt gzip stream, a body cut short) and at which line.")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error = null,
    [property: Description("Only when the input broke off (422): the line the ingest was reading; it took nothing from there on.")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? ErrorLine = null,
    [property: Description("Only when the input broke off (422): the same error in FastAPI's shape, as every 422 carries it (type input_broken).")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ValidationError>? Detail = null)
{
    public const int MaxListed = 100;
}
