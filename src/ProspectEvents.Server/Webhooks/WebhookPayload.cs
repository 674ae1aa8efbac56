using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Webhooks;

/// <summary>
/// The body POSTed for an event (docs/webhooks.md): <c>{"event_id","event_name","entity_id","entity_type","partner_id",
/// "enrollment_key","event_time","data"}</c>. With payload format <c>stringified_json</c> the same document is sent as a
/// JSON string, for receivers that want the text they verify and parse to be one value.
/// </summary>
public static class WebhookPayload
{
    public const string Json = "json";
    public const string StringifiedJson = "stringified_json";
    public static readonly IReadOnlyList<string> Formats = [Json, StringifiedJson];

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] For(StoredEvent stored, string partnerId, string enrollmentKey, string payloadFormat)
    {
        var buffer = new ArrayBufferWriter<byte>(512 + stored.Data.Length);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("event_id", stored.EventId);
            writer.WriteString("event_name", stored.EventName);
            writer.WriteString("entity_id", stored.ProspectId);
            writer.WriteString("entity_type", "prospect");
            writer.WriteString("partner_id", partnerId);
            writer.WriteString("enrollment_key", enrollmentKey);
            writer.WriteString("event_time", stored.EventTime);
            writer.WritePropertyName("data");
            writer.WriteRawValue(stored.Data, skipInputValidation: true); // stored by us, as JSON
            writer.WriteEndObject();
        }
        if (payloadFormat != StringifiedJson) return buffer.WrittenSpan.ToArray();

        var stringified = new ArrayBufferWriter<byte>(buffer.WrittenCount + 64);
        using (var writer = new Utf8JsonWriter(stringified, WriterOptions)) writer.WriteStringValue(buffer.WrittenSpan);
        return stringified.WrittenSpan.ToArray();
    }
}
