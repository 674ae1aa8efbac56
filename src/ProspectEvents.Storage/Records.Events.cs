using System.Text;

namespace ProspectEvents.Storage;

/// <summary>
/// A stored event as served by the fetch endpoint and sent to webhooks. <see cref="DataUtf8"/> is its JSON object as
/// stored, in UTF-8: both go out as UTF-8, so the text is never turned into a string and back. The id may come as
/// UTF-8 too (the SQLite fetch reads it so); its string is made only when asked for.
/// </summary>
public sealed class StoredEvent
{
    private string? _eventId;
    private byte[]? _eventIdUtf8;

    public StoredEvent(string eventId, string eventName, DateTimeOffset eventTime, string prospectId, byte[] dataUtf8)
        : this(eventName, eventTime, prospectId, dataUtf8) => _eventId = eventId;

    public StoredEvent(string eventId, string eventName, DateTimeOffset eventTime, string prospectId, string data)
        : this(eventId, eventName, eventTime, prospectId, Encoding.UTF8.GetBytes(data))
    {
    }

    /// <summary>An event whose id is given as its UTF-8 bytes.</summary>
    public StoredEvent(byte[] eventIdUtf8, string eventName, DateTimeOffset eventTime, string prospectId, byte[] dataUtf8)
        : this(eventName, eventTime, prospectId, dataUtf8) => _eventIdUtf8 = eventIdUtf8;

    private StoredEvent(string eventName, DateTimeOffset eventTime, string prospectId, byte[] dataUtf8)
    {
        EventName = eventName;
        EventTime = eventTime;
        ProspectId = prospectId;
        DataUtf8 = dataUtf8;
    }

    public string EventId => _eventId ??= Encoding.UTF8.GetString(_eventIdUtf8!);

    /// <summary>The id's UTF-8 bytes.</summary>
    public ReadOnlySpan<byte> EventIdUtf8 => _eventIdUtf8 ??= Encoding.UTF8.GetBytes(_eventId!);

    public string EventName { get; }
    public DateTimeOffset EventTime { get; }
    public string ProspectId { get; }
    public byte[] DataUtf8 { get; }

    /// <summary>The JSON object's text.</summary>
    public string Data => Encoding.UTF8.GetString(DataUtf8);
}
