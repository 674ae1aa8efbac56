using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using ProspectEvents.Server.Http;

namespace ProspectEvents.Server.Webhooks;

/// <summary>Limits of the v2 webhook endpoints, shared by the validator and the OpenAPI document.</summary>
public static class WebhookV2Limits
{
    /// <summary>The anchor's own limit on <c>webhook_url</c>.</summary>
    public const int MaxUrlLength = 65536;

    public const int MaxNameLength = 200;
    public const int MaxDescriptionLength = 2000;
}

[JsonConverter(typeof(JsonStringEnumConverter<WebhookStatusName>))]
public enum WebhookStatusName
{
    [JsonStringEnumMemberName("active")] Active,
    [JsonStringEnumMemberName("disabled")] Disabled,
}

// As in v1, the request records describe the bodies in the OpenAPI document; handlers validate raw JSON.

[Description("Create a webhook; the answer holds its secret, which no other read returns.")]
public sealed record CreateWebhookV2Body(
    [property: Required, MinLength(1), MaxLength(WebhookV2Limits.MaxNameLength), Description("Unique among the partner's webhooks.")] string Name,
    [property: Required, MaxLength(WebhookV2Limits.MaxUrlLength), Description("http or https URL; private and loopback addresses are refused unless Webhooks:AllowPrivateNetworks.")] string WebhookUrl,
    [property: MaxLength(WebhookV2Limits.MaxDescriptionLength)] string? Description = null,
    [property: MaxLength(WebhookLimits.MaxHeaders), Description("Extra headers sent with every delivery, each \"Name: value\".")] IReadOnlyList<string>? Headers = null,
    [property: Description("json (default), or stringified_json: {\"text\": the event document as a JSON string}.")] PayloadFormatName? PayloadFormat = null);

[Description("Change some of a webhook's fields; status disabled stops its deliveries (they wait), active resumes them.")]
public sealed record PatchWebhookV2Body(
    [property: MinLength(1), MaxLength(WebhookV2Limits.MaxNameLength)] string? Name = null,
    [property: MaxLength(WebhookV2Limits.MaxDescriptionLength)] string? Description = null,
    [property: MaxLength(WebhookV2Limits.MaxUrlLength)] string? WebhookUrl = null,
    [property: MaxLength(WebhookLimits.MaxHeaders)] IReadOnlyList<string>? Headers = null,
    PayloadFormatName? PayloadFormat = null,
    WebhookStatusName? Status = null);

[Description("Send test events to this webhook now; the body may be left out.")]
public sealed record CheckConnectivityV2Body(SimulationBody? Simulation = null);

/// <summary>Who a webhook belongs to: here always the partner (<c>{"type": "partner", "id": partner_id}</c>).</summary>
public sealed record WebhookScope(string Type, string Id);

/// <summary>
/// The anchor's v2 webhook resource. One record serves a list item (no context, no secret), a read or update (with its
/// <c>response_context</c>) and a create (with the secret, the only time it is shown).
/// </summary>
public sealed record WebhookV2View(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ResponseContext? ResponseContext,
    string WebhookId,
    WebhookScope Scope,
    string Name,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description,
    string WebhookUrl,
    IReadOnlyList<string> Headers,
    string PayloadFormat,
    [property: Description("active, or disabled (by PATCH, a 410 answer or Webhooks:DisableAfter of failures): PATCH status active to resume.")] string Status,
    [property: Description("true for the v1 partner webhook, read-only here.")] bool Legacy,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastModifiedTime,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DisabledReason = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? WebhookSecret = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? StandardWebhooksSecret = null);

public sealed record WebhookV2List(ResponseContext ResponseContext, IReadOnlyList<WebhookV2View> Webhooks);

public sealed record WebhookV2Deleted(
    ResponseContext ResponseContext,
    [property: Description("The enrollments a forced delete paused.")] IReadOnlyList<string> AffectedEnrollmentIds);

public sealed record WebhookSecretRotated(
    ResponseContext ResponseContext,
    string WebhookId,
    string WebhookSecret,
    string StandardWebhooksSecret,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description("Until when the previous secret still signs too (Webhooks:RotationOverlap).")] DateTimeOffset? PreviousSecretValidUntil);
