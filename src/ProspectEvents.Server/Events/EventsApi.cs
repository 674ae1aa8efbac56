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
            var from = validator.OptionalTime("timestamp_from");
            var to = validator.OptionalTime("timestamp_to", endOfDay: true);
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
}
