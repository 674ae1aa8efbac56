using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using ProspectEvents.Server.Enrollments;
using ProspectEvents.Server.Http;

namespace ProspectEvents.Server.Webhooks;

/// <summary>Limits of the webhook endpoints, shared by the validator and the OpenAPI document.</summary>
public static class WebhookLimits
{
    public const int MaxUrlLength = 2048;
    public const int MaxHeaders = 20;
    public const int MaxHeaderLength = 1024;
    public const int MaxSimulatedEvents = 10;
    public const int MaxPageSize = 1000;
    public const int DefaultPageSize = 100;
}

[JsonConverter(typeof(JsonStringEnumConverter<PayloadFormatName>))]
public enum PayloadFormatName
{
    [JsonStringEnumMemberName(WebhookPayload.Json)] Json,
    [JsonStringEnumMemberName(WebhookPayload.StringifiedJson)] StringifiedJson,
}

// As for enrollments, the request records describe the bodies in the OpenAPI document; handlers validate raw JSON.

[Description("Register the partner's webhook, or replace it (a new secret; a disabled webhook is enabled again).")]
public sealed record RegisterWebhookBody(
    [property: Required, Description("Must be the caller's own partner id.")] string PartnerId,
    [property: Required, MaxLength(WebhookLimits.MaxUrlLength), Description("http or https URL; private and loopback addresses are refused unless Webhooks:AllowPrivateNetworks.")] string WebhookUrl,
    [property: MaxLength(WebhookLimits.MaxHeaders), Description("Extra headers sent with every delivery, each \"Name: value\".")] IReadOnlyList<string>? Headers = null,
    [property: Description("json (default), or stringified_json: the event document sent as a JSON string.")] PayloadFormatName? PayloadFormat = null,
    Dictionary<string, object>? RequestContext = null);

[Description("Point the webhook at a new URL, keeping its secret.")]
public sealed record UpdateWebhookBody(
    [property: Required, MaxLength(WebhookLimits.MaxUrlLength)] string WebhookUrl,
    Dictionary<string, object>? RequestContext = null);

public sealed record SimulationBody(
    [property: Description("Type of the test events; default prospect_changed_company.")] EventTypeName? EventName = null,
    [property: Range(1, WebhookLimits.MaxSimulatedEvents), Description("How many test events to send (1–10); default 1.")] int? NumberOfEvents = null,
    [property: Description("event_time of the test events; default now.")] DateTimeOffset? EventTime = null);

[Description("Send test events to the partner's webhook now and report the receiver's answer.")]
public sealed record CheckConnectivityBody(
    [property: Required] string PartnerId,
    SimulationBody? Simulation = null,
    Dictionary<string, object>? RequestContext = null);

[Description("Replay every delivery that failed at or after since.")]
public sealed record RecoverBody(
    [property: Required, Description("ISO date-time or YYYY-MM-DD.")] string Since,
    Dictionary<string, object>? RequestContext = null);

/// <summary>
/// The anchor's webhook shape, plus <c>standard_webhooks_secret</c> (the same secret for Standard Webhooks
/// libraries) and the webhook's status.
/// </summary>
public sealed record WebhookView(
    ResponseContext ResponseContext,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastModifiedTime,
    string WebhookUrl,
    string WebhookSecret,
    string StandardWebhooksSecret,
    IReadOnlyList<string> Headers,
    string PayloadFormat,
    [property: Description("enabled, or disabled (by a 410 answer or Webhooks:DisableAfter of failures): register again to enable it.")] string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? DisabledAt = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DisabledReason = null);

public sealed record ResponseOnly(ResponseContext ResponseContext);

/// <summary>One test event's answer.</summary>
public sealed record ConnectivityResult(string EventId, int? StatusCode, double DurationMs);

public sealed record ConnectivityReport(ResponseContext ResponseContext, IReadOnlyList<ConnectivityResult> Results);

public sealed record AttemptView(int Attempt, DateTimeOffset AttemptedAt, long DurationMs, int? StatusCode, string? Error, string? Response);

public sealed record DeliveryItem(
    string DeliveryId,
    string EventId,
    string EventName,
    string EntityId,
    string EnrollmentKey,
    [property: Description("pending, delivered or failed.")] string Status,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? FinishedAt,
    AttemptView? LastAttempt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<AttemptView>? AttemptLog = null);

public sealed record DeliveryList(
    ResponseContext ResponseContext,
    IReadOnlyList<DeliveryItem> Deliveries,
    [property: Description("Pass as cursor for the next page; null on the last page.")] string? NextCursor);

public sealed record DeliveryResult(ResponseContext ResponseContext, DeliveryItem Delivery);

public sealed record RecoverResult(ResponseContext ResponseContext, int Recovered);
