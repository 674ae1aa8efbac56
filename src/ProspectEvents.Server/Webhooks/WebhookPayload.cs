using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Webhooks;

/// <summary>
/// The body POSTed for an event (docs/webhooks.md): <c>{"event_id","event_name","entity_id","entity_type","partner_id",
/// "enrollment_key","event_time","data"}</c>; a v2 enrollment's adds <c>webhook_id</c>, <c>tenant_id</c>,
/// <c>enrollment_id</c> and <c>prospect_id</c>. With payload format <c>stringified_json</c> the same document is sent as
/// a JSON string (v2: in <c>{"text": ...}</c>), for receivers that want the text they verify and parse to be one value.
/// </summary>
public static class WebhookPayload
{
    public const string Json = "json";
    public const string StringifiedJson = "stringified_json";
    public static readonly IReadOnlyList<string> Formats = [Json, StringifiedJson];

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Where a v2 delivery comes from: the fields its payload adds.</summary>
    public readonly record struct V2Source(string WebhookId, string EnrollmentId);

    public static byte[] For(ClaimedDelivery delivery) =>
        For(delivery.Event, delivery.PartnerId, delivery.EnrollmentKey, delivery.Webhook.PayloadFormat,
            delivery.EnrollmentId is { } enrollmentId ? new V2Source(delivery.Webhook.WebhookId, enrollmentId) : null);

    public static byte[] For(StoredEvent stored, string partnerId, string enrollmentKey, string payloadFormat, V2Source? v2 = null)
    {
        var buffer = new ArrayBufferWriter<byte>(512 + stored.DataUtf8.Length);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("event_id", stored.EventId);
            writer.WriteString("event_name", stored.EventName);
            writer.WriteString("entity_id", stored.ProspectId);
            writer.WriteString("entity_type", "prospect");
            writer.WriteString("partner_id", partnerId);
            writer.WriteString("enrollment_key", enrollmentKey);
            if (v2 is { } source)
            {
                writer.WriteString("webhook_id", source.WebhookId);
                writer.WriteString("tenant_id", partnerId); // the tenant is the partner (docs/api.md)
                writer.WriteString("enrollment_id", source.EnrollmentId);
                writer.WriteString("prospect_id", stored.ProspectId);
            }
            writer.WriteString("event_time", stored.EventTime);
            writer.WritePropertyName("data");
            writer.WriteRawValue(stored.DataUtf8, skipInputValidation: true); // stored by us, as JSON
            writer.WriteEndObject();
        }
        if (payloadFormat != StringifiedJson) return buffer.WrittenSpan.ToArray();

        // v1 sends the bare JSON string, as it always has; v2 wraps it as {"text": ...}, as the anchor's v2 guide shows.
        var stringified = new ArrayBufferWriter<byte>(buffer.WrittenCount + 64);
        using (var writer = new Utf8JsonWriter(stringified, WriterOptions))
        {
            if (v2 is not null)
            {
                writer.WriteStartObject();
                writer.WritePropertyName("text");
            }
            writer.WriteStringValue(buffer.WrittenSpan);
            if (v2 is not null) writer.WriteEndObject();
        }
        return stringified.WrittenSpan.ToArray();
    }
}
