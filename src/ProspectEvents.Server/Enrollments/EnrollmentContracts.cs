using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using ProspectEvents.Server.Http;

namespace ProspectEvents.Server.Enrollments;

/// <summary>Limits of the enrollment endpoints, shared by the validator and the OpenAPI document.</summary>
public static class EnrollmentLimits
{
    public const int KeyMinLength = 4;
    public const int KeyMaxLength = 256;
    public const int MaxProspectIds = 20;
    public const int MaxProspectIdsV2 = 1000;
    public const int MaxEventTypesV2 = 1000;
    public const int TtlMinDays = 1;
    public const int TtlMaxDays = 3650;
    public const int MaxPageSize = 1000;
}

/// <summary>The anchor's ProspectsEventIdentifier, for the OpenAPI document.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<EventTypeName>))]
public enum EventTypeName
{
    [JsonStringEnumMemberName(EventTypeNames.ChangedRole)] ProspectChangedRole,
    [JsonStringEnumMemberName(EventTypeNames.ChangedCompany)] ProspectChangedCompany,
    [JsonStringEnumMemberName(EventTypeNames.JobStartAnniversary)] ProspectJobStartAnniversary,
}

// The request records describe the bodies in the OpenAPI document; the handlers validate the raw JSON themselves
// (with BodyValidator) so every problem is reported FastAPI-style, with the same limits as declared here.

[Description("Enroll prospects under an enrollment_key; posting an existing key adds prospects and event types to it.")]
public sealed record AddEnrollmentBody(
    [property: Required, MinLength(EnrollmentLimits.KeyMinLength), MaxLength(EnrollmentLimits.KeyMaxLength)] string EnrollmentKey,
    [property: Required, MinLength(1)] IReadOnlyList<EventTypeName> EventTypes,
    [property: Required, MinLength(1), MaxLength(EnrollmentLimits.MaxProspectIds), ItemPattern(ProspectId.Pattern)] IReadOnlyList<string> ProspectIds,
    [property: Range(EnrollmentLimits.TtlMinDays, EnrollmentLimits.TtlMaxDays), Description("Days until the prospects of this request stop being monitored; absent: never.")] int? TtlDays = null,
    [property: Description("Free-form caller context; accepted and ignored.")] Dictionary<string, object>? RequestContext = null);

[Description("Replace an enrollment whole: key, event types, prospects (and their ttl_days).")]
public sealed record ReplaceEnrollmentBody(
    [property: Required] string EnrollmentId,
    [property: Required, MinLength(EnrollmentLimits.KeyMinLength), MaxLength(EnrollmentLimits.KeyMaxLength)] string EnrollmentKey,
    [property: Required, MinLength(1)] IReadOnlyList<EventTypeName> EventTypes,
    [property: Required, MinLength(1), MaxLength(EnrollmentLimits.MaxProspectIds), ItemPattern(ProspectId.Pattern)] IReadOnlyList<string> ProspectIds,
    [property: Range(EnrollmentLimits.TtlMinDays, EnrollmentLimits.TtlMaxDays)] int? TtlDays = null,
    Dictionary<string, object>? RequestContext = null);

public sealed record DeleteEnrollmentBody([property: Required] string EnrollmentId);

public sealed record EnrollmentSaved(ResponseContext ResponseContext, string EnrollmentKey, string EnrollmentId);

public sealed record EnrollmentView(string EnrollmentId, string EnrollmentKey, IReadOnlyList<string> EventTypes, IReadOnlyList<string> ProspectIds);

public sealed record EnrollmentList(
    ResponseContext ResponseContext,
    IReadOnlyList<EnrollmentView> Enrollments,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Page = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? PageSize = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? HasMore = null);

public sealed record StatusResult(ResponseContext ResponseContext, string Status);
