using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
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
    [property: Description("The latest events detected, newest first (at most 20).")] IReadOnlyList<RecentEventView> RecentEvents)
{
    public const int MaxRecentEvents = 20;
}

/// <summary>An event and the number of active enrollments it matched when it was detected.</summary>
public sealed record RecentEventView(string EventId, string EventName, string ProspectId, DateTimeOffset DetectedAt, long Matches);

public sealed record HealthStatus(string Status);

public sealed record RejectedLineView(long Line, string Error);

/// <summary>The counts of an ingest and its first rejected lines (<see cref="MaxListed"/> at most).</summary>
public sealed record IngestResult(
    ResponseContext ResponseContext, long Observations, long Rejected, long Stale, long Events, double Seconds,
    IReadOnlyList<RejectedLineView> RejectedLines, bool RejectedLinesTruncated)
{
    public const int MaxListed = 100;
}
