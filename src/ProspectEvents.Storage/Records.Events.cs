namespace ProspectEvents.Storage;

/// <summary>
/// A stored event as served by the fetch endpoint and sent to webhooks. <see cref="DataUtf8"/> is its JSON object as
/// stored, in UTF-8: both go out as UTF-8, so the text is never turned into a string and back.
/// </summary>
public sealed record StoredEvent(string EventId, string EventName, DateTimeOffset EventTime, string ProspectId, byte[] DataUtf8)
{
    public StoredEvent(string eventId, string eventName, DateTimeOffset eventTime, string prospectId, string data)
        : this(eventId, eventName, eventTime, prospectId, System.Text.Encoding.UTF8.GetBytes(data))
    {
    }

    /// <summary>The JSON object's text.</summary>
    public string Data => System.Text.Encoding.UTF8.GetString(DataUtf8);
}
