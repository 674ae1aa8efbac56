namespace ProspectEvents.Detection;

/// <summary>
/// One profile snapshot of one prospect (docs/api.md, operator API): the fields detection uses. Every field but the id and the
/// time may be null, which means unknown, never "changed to nothing". (The feed's job_department and
/// job_seniority_level are checked for type and otherwise ignored: no rule reads them.)
/// </summary>
public sealed record Observation(
    string ProspectId,
    DateTimeOffset ObservedAt,
    string? FullName = null,
    string? JobTitle = null,
    string? CompanyId = null,
    string? CompanyName = null,
    string? CompanyDomain = null,
    JobStartDate? JobStartDate = null,
    string? LinkedinUrl = null);

/// <summary>What we last knew of a prospect: the newest snapshot applied, with unknown fields filled from earlier ones.</summary>
public sealed record ProspectState(
    DateTimeOffset ObservedAt,
    string? FullName,
    string? JobTitle,
    string? CompanyId,
    string? CompanyName,
    string? CompanyDomain,
    JobStartDate? JobStartDate,
    string? LinkedinUrl);
