using System.Security.Cryptography;
using System.Text.Json;
using ProspectEvents.Detection;
using ProspectEvents.Server.Http;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Webhooks;

/// <summary>
/// Test events for <c>check_connectivity</c>: shaped as real ones (random ids, sample data of the chosen type), sent
/// under enrollment key <see cref="EnrollmentKey"/> so a receiver can tell them apart. Never stored.
/// </summary>
public static class SimulatedEvents
{
    public const string EnrollmentKey = "connectivity_check";

    public static IEnumerable<StoredEvent> Create(string eventName, int count, DateTimeOffset eventTime)
    {
        for (var i = 0; i < count; i++)
            yield return new StoredEvent(RandomHex(16), eventName, eventTime, RandomHex(20), SampleData(eventName, eventTime));
    }

    public static string NewMessageId() => "msg_" + RandomHex(12);

    private static string SampleData(string eventName, DateTimeOffset eventTime) => eventName switch
    {
        EventTypeNames.JobStartAnniversary => JsonSerializer.Serialize(
            new AnniversaryEventData("Jane Example", "Example Corp", 3, "Senior Software Engineer", eventTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                "https://www.linkedin.com/in/jane-example", eventTime), ApiJsonContext.Default.AnniversaryEventData),
        _ when !EventTypeNames.TryParse(eventName, out _) => BusinessSampleData(eventName, eventTime),
        EventTypeNames.ChangedRole => JsonSerializer.Serialize(
            new ChangeEventData("Software Engineer", "Senior Software Engineer", "Example Corp", null, "Example Corp", null, eventTime), ApiJsonContext.Default.ChangeEventData),
        _ => JsonSerializer.Serialize(
            new ChangeEventData("Software Engineer", "Staff Engineer", "Example Corp", null, "Sample Industries", null, eventTime), ApiJsonContext.Default.ChangeEventData),
    };

    // A v2 simulation may name a business type of the anchor's shared enum; we detect none, so there is no sample of
    // their data to copy: the test event's data names the type and time, as every anchor data block does.
    private static string BusinessSampleData(string eventName, DateTimeOffset eventTime)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("event_name", eventName);
            writer.WriteString("event_time", eventTime);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string RandomHex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));
}
