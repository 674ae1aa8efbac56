namespace ProspectEvents.Detection;

/// <summary>A detected event. <see cref="ObservedAt"/> is the snapshot that showed it; the store adds detected_at.</summary>
public sealed record CareerEvent(string EventId, string EventName, string ProspectId, DateTimeOffset EventTime, DateTimeOffset ObservedAt, object Data);

/// <summary>The data of a company or role change, with the anchor's field names (snake_case on the wire).</summary>
public sealed record ChangeEventData(
    string? PreviousJobTitle,
    string? CurrentJobTitle,
    string? PreviousCompanyName,
    string? PreviousCompanyId,
    string? CurrentCompanyName,
    string? CurrentCompanyId,
    DateTimeOffset EventTime);

/// <summary>The data of a job-start anniversary, with the anchor's field names (snake_case on the wire).</summary>
public sealed record AnniversaryEventData(
    string? FullName,
    string? CompanyName,
    int YearsAtCompany,
    string? JobTitle,
    string JobAnniversaryDate,
    string? LinkedinUrl,
    DateTimeOffset EventTime);
