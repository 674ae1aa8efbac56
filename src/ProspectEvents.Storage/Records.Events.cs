namespace ProspectEvents.Storage;

/// <summary>A stored event as served by the fetch endpoint; <see cref="Data"/> is its JSON object text.</summary>
public sealed record StoredEvent(string EventId, string EventName, DateTimeOffset EventTime, string ProspectId, string Data);
