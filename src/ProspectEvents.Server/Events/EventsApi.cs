using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using ProspectEvents.Server.Auth;
using ProspectEvents.Server.Http;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Events;

/// <summary><c>POST /v1/prospects/events</c>: the detected events of given prospects.</summary>
public static class EventsApi
{
    public static RouteGroupBuilder MapEvents(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/prospects/events").WithTags("Events").RequireApiKey();
        group.MapPost("", Fetch).WithJsonBody<FetchEventsBody>()
            .WithName("FetchProspectsEvents").WithSummary("Fetch prospects events")
            .WithDescription("Events of 1–40 unique prospects, of the given types, between timestamp_from and timestamp_to (default: the last 90 days), newest first.");
        return group;
    }

    private static async Task<Results<Ok<FetchEventsResult>, ApiError>> Fetch(HttpContext http, Store store, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (document, error) = await RequestBody.ReadAsync(http, cancellationToken);
        if (error is not null) return error;
        using (document)
        {
            var validator = new BodyValidator(document!);
            var now = clock.GetUtcNow();
            var prospectIds = validator.ProspectIds(EventLimits.MaxProspectIds, unique: true);
            var eventTypes = validator.EventTypes();
            var from = Bound(validator, "timestamp_from", endOfDay: false);
            var to = Bound(validator, "timestamp_to", endOfDay: true);
            validator.OptionalObjectOrNull("request_context");
            var start = from ?? now.AddDays(-EventLimits.DefaultDays);
            var end = to ?? DateTimeOffset.MaxValue;
            if (from is not null && to is not null && start > end) validator.Reject("timestamp_from", "Value error, timestamp_from must not be after timestamp_to");
            if (validator.Finish() is { } invalid) return invalid;

            var events = await store.FetchEventsAsync(prospectIds!, eventTypes!, start, end, cancellationToken);
            var output = events.Select(e => new OutputEvent(e.EventId, e.EventName, e.EventTime, e.ProspectId, JsonSerializer.Deserialize(e.Data, ApiJsonContext.Default.JsonElement))).ToList();
            return TypedResults.Ok(new FetchEventsResult(ResponseContext.For(http), output));
        }
    }

    /// <summary>An ISO date-time, or a date meaning the start (or, for an upper bound, the end) of that UTC day.</summary>
    private static DateTimeOffset? Bound(BodyValidator validator, string name, bool endOfDay)
    {
        if (validator.OptionalString(name) is not { } text) return null;
        if (text.Length == 10 && DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            var start = new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            return endOfDay ? start.AddDays(1).AddMilliseconds(-1) : start;
        }
        if (text.Contains('T', StringComparison.Ordinal) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            return time;
        validator.Reject(name, "Input should be a valid datetime or date, e.g. 2026-11-01T08:00:00Z or 2026-11-01", "datetime_parsing");
        return null;
    }
}
