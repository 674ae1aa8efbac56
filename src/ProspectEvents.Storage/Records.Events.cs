namespace ProspectEvents.Storage;

/// <summary>What applying a batch of observations did.</summary>
public sealed record IngestCounts(int Observations, int Stale, int Events);

/// <summary>A stored event as served by the fetch endpoint; <see cref="Data"/> is its JSON object text.</summary>
public sealed record StoredEvent(string EventId, string EventName, DateTimeOffset EventTime, string ProspectId, string Data);
