using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using ProspectEvents.Server.Http;

namespace ProspectEvents.Server.Enrollments;

// As in v1, the request records describe the bodies in the OpenAPI document; handlers validate raw JSON.

[Description("Enroll prospects under an enrollment_key, delivered to one of the partner's webhooks; posting an existing key with the same webhook adds to it.")]
public sealed record AddEnrollmentV2Body(
    [property: Required, MinLength(EnrollmentLimits.KeyMinLength), MaxLength(EnrollmentLimits.KeyMaxLength)] string EnrollmentKey,
    [property: Required, Description("An active webhook of the partner (GET /v2/webhooks).")] string WebhookId,
    [property: Required, MinLength(1), MaxLength(EnrollmentLimits.MaxEventTypesV2)] IReadOnlyList<EventTypeName> EventTypes,
    [property: Required, MinLength(1), MaxLength(EnrollmentLimits.MaxProspectIdsV2), ItemPattern(ProspectId.Pattern)] IReadOnlyList<string> ProspectIds,
    [property: Range(EnrollmentLimits.TtlMinDays, EnrollmentLimits.TtlMaxDays), Description("Our extension: days until the prospects of this request stop being monitored; absent: never.")] int? TtlDays = null,
    Dictionary<string, object>? RequestContext = null);

[Description("Change some of an enrollment's fields; naming a webhook re-points it there and makes a paused enrollment active. New prospect_ids replace the old ones.")]
public sealed record PatchEnrollmentV2Body(
    [property: MinLength(EnrollmentLimits.KeyMinLength), MaxLength(EnrollmentLimits.KeyMaxLength)] string? EnrollmentKey = null,
    string? WebhookId = null,
    [property: MinLength(1), MaxLength(EnrollmentLimits.MaxEventTypesV2)] IReadOnlyList<EventTypeName>? EventTypes = null,
    [property: MinLength(1), MaxLength(EnrollmentLimits.MaxProspectIdsV2), ItemPattern(ProspectId.Pattern)] IReadOnlyList<string>? ProspectIds = null,
    [property: Range(EnrollmentLimits.TtlMinDays, EnrollmentLimits.TtlMaxDays), Description("With prospect_ids: their expiry.")] int? TtlDays = null,
    Dictionary<string, object>? RequestContext = null);

/// <summary>The anchor's V2EnrollmentResponse.</summary>
public sealed record EnrollmentV2Saved(
    ResponseContext ResponseContext,
    string EnrollmentKey,
    string EnrollmentId,
    [property: Description("null for a v1 enrollment while the partner has no v1 webhook.")] string? WebhookId,
    [property: Description("active, or paused (its webhook was force-deleted): PATCH webhook_id to resume.")] string Status);

public sealed record EnrollmentV2View(
    string EnrollmentKey,
    string EnrollmentId,
    string? WebhookId,
    string Status,
    IReadOnlyList<string> EventTypes,
    IReadOnlyList<string> ProspectIds);

public sealed record EnrollmentV2List(
    ResponseContext ResponseContext,
    IReadOnlyList<EnrollmentV2View> Enrollments,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Page = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? PageSize = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? HasMore = null);
