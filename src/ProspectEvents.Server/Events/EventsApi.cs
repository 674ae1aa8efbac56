using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
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
        routes.MapGroup("/v2/prospects/events").WithTags("Events v2").RequireApiKey()
            .MapPost("", Fetch).WithJsonBody<FetchEventsV2Body>()
            .WithName("V2FetchProspectsEvents").WithSummary("Fetch prospects events")
            .WithDescription("As v1: events of 1–40 unique prospects, newest first, the last 90 days by default. event_types takes any value of the anchor's shared enum (business types find nothing); entity_type, if given, must be prospect.");
        return group;
    }

    private static async Task<Results<FetchEventsResponse, ApiError>> Fetch(HttpContext http, Store store, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (document, error) = await RequestBody.ReadAsync(http, cancellationToken);
        if (error is not null) return error;
        using (document)
        {
            var validator = new BodyValidator(document!);
            var now = clock.GetUtcNow();
            var v2 = ResponseContext.IsV2(http);
            var prospectIds = validator.ProspectIds(EventLimits.MaxProspectIds, unique: true);
            var eventTypes = v2 ? validator.AnyEventTypes()?.Where(n => EventTypeNames.TryParse(n, out _)).ToList() : validator.EventTypes();
            if (v2 && validator.OptionalEnum("entity_type", ["business", "prospect"]) == "business")
                validator.Reject("entity_type", "Value error, this endpoint serves prospect events: entity_type must be 'prospect'");
            var from = validator.OptionalTime("timestamp_from");
            var to = validator.OptionalTime("timestamp_to", endOfDay: true);
            validator.OptionalObjectOrNull("request_context");
            var start = from ?? now.AddDays(-EventLimits.DefaultDays);
            var end = to ?? DateTimeOffset.MaxValue;
            if (from is not null && to is not null && start > end) validator.Reject("timestamp_from", "Value error, timestamp_from must not be after timestamp_to");
            if (validator.Finish() is { } invalid) return invalid;

            var events = eventTypes!.Count == 0 ? [] : await store.FetchEventsAsync(prospectIds!, eventTypes, start, end, cancellationToken);
            return new FetchEventsResponse(ResponseContext.For(http), events);
        }
    }
}

/// <summary>
/// The 200 answer of a fetch, <see cref="FetchEventsResult"/>'s JSON written straight to the response: each event's stored
/// data goes out as the stored text, not parsed into a document and written again. Stored data is compact JSON written
/// with the default encoder; where it holds an escape (<c>\</c>) it is re-written through a document so the bytes stay
/// those the API's relaxed encoder writes (non-ASCII letters unescaped), exactly as before.
/// </summary>
public sealed class FetchEventsResponse(ResponseContext context, List<StoredEvent> events) : IResult, IEndpointMetadataProvider
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };
    private const int FlushAt = 16 * 1024;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(response.BodyWriter, WriterOptions);
        json.WriteStartObject();
        json.WritePropertyName("response_context"u8);
        JsonSerializer.Serialize(json, context, ApiJsonContext.Default.ResponseContext);
        json.WriteStartArray("output_events"u8);
        foreach (var e in events)
        {
            json.WriteStartObject();
            json.WriteString("event_id"u8, e.EventIdUtf8);
            json.WriteString("event_name"u8, e.EventName);
            json.WriteString("event_time"u8, e.EventTime);
            json.WriteString("prospect_id"u8, e.ProspectId);
            json.WritePropertyName("data"u8);
            if (e.DataUtf8.AsSpan().Contains((byte)'\\'))
            {
                using var document = JsonDocument.Parse(e.DataUtf8);
                document.RootElement.WriteTo(json);
            }
            else
            {
                json.WriteRawValue(e.DataUtf8, skipInputValidation: true);
            }
            json.WriteEndObject();
            if (json.BytesPending >= FlushAt) await json.FlushAsync(httpContext.RequestAborted);
        }
        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync(httpContext.RequestAborted);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(FetchEventsResult), ["application/json"]));
}
