using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using ProspectEvents.Server.Enrollments;
using ProspectEvents.Server.Http;

namespace ProspectEvents.Server.Events;

public static class EventLimits
{
    public const int MaxProspectIds = 40;
    public const int DefaultDays = 90;
}

[Description("Fetch the events of up to 40 prospects; events are shared facts, no enrollment needed.")]
public sealed record FetchEventsBody(
    [property: Required, MinLength(1), MaxLength(EventLimits.MaxProspectIds), ItemPattern(ProspectId.Pattern), Description("Unique prospect ids.")] IReadOnlyList<string> ProspectIds,
    [property: Required, MinLength(1)] IReadOnlyList<EventTypeName> EventTypes,
    [property: Description("ISO date-time or YYYY-MM-DD (start of that day, UTC). Default: 90 days ago.")] string? TimestampFrom = null,
    [property: Description("ISO date-time or YYYY-MM-DD (end of that day, UTC). Default: now.")] string? TimestampTo = null,
    Dictionary<string, object>? RequestContext = null);

[Description("Fetch the events of up to 40 prospects (v2): as v1, with the anchor's shared event-type enum and entity_type.")]
public sealed record FetchEventsV2Body(
    [property: Required, MinLength(1), MaxLength(EventLimits.MaxProspectIds), ItemPattern(ProspectId.Pattern), Description("Unique prospect ids.")] IReadOnlyList<string> ProspectIds,
    [property: Required, MinLength(1), Description("Any EventTypeEnum value; only the three prospect types have events here.")] IReadOnlyList<string> EventTypes,
    [property: Description("ISO date-time or YYYY-MM-DD (start of that day, UTC). Default: 90 days ago.")] string? TimestampFrom = null,
    [property: Description("ISO date-time or YYYY-MM-DD (end of that day, UTC). Default: now.")] string? TimestampTo = null,
    [property: Description("prospect, if given.")] string? EntityType = null,
    Dictionary<string, object>? RequestContext = null);

public sealed record OutputEvent(string EventId, string EventName, DateTimeOffset EventTime, string ProspectId, JsonElement Data);

public sealed record FetchEventsResult(ResponseContext ResponseContext, IReadOnlyList<OutputEvent> OutputEvents);
