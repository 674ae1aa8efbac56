using System.Text.Json;
using System.Text.Json.Serialization;
using ProspectEvents.Detection;

namespace ProspectEvents.Storage;

/// <summary>Event data as stored and served: the anchor's snake_case field names.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ChangeEventData))]
[JsonSerializable(typeof(AnniversaryEventData))]
internal sealed partial class EventJson : JsonSerializerContext
{
    public static string Serialize(object data) => data switch
    {
        ChangeEventData change => JsonSerializer.Serialize(change, Default.ChangeEventData),
        AnniversaryEventData anniversary => JsonSerializer.Serialize(anniversary, Default.AnniversaryEventData),
        _ => throw new ArgumentException($"Unknown event data {data.GetType().Name}", nameof(data)),
    };
}
