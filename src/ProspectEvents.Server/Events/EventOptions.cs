namespace ProspectEvents.Server.Events;

/// <summary>The <c>Events</c> section.</summary>
public sealed class EventOptions
{
    public const string Section = "Events";

    /// <summary>The longest retention accepted: a century, well inside the calendar's range.</summary>
    public const int MaxRetentionDays = 36_500;

    /// <summary>Days an event is kept (see <see cref="EventRetention"/>); 0 keeps events for good.</summary>
    public int RetentionDays { get; set; } = 365;
}
