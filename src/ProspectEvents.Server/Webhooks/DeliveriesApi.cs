using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using ProspectEvents.Server.Http;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Webhooks;

/// <summary>
/// The delivery log and recovery, beyond the anchor: <c>/v1/webhooks/{partner_id}/deliveries</c> (list, one with its
/// attempts, replay) and <c>/v1/webhooks/{partner_id}/recover</c>.
/// </summary>
public static class DeliveriesApi
{
    public static void MapDeliveries(this RouteGroupBuilder webhooks)
    {
        webhooks.MapGet("/{partner_id}/deliveries", List)
            .WithName("ListDeliveries").WithSummary("List deliveries")
            .WithDescription("The partner's deliveries, newest first. status (pending, delivered, failed) filters; page_size (1–1000, default 100) and cursor (next_cursor of the previous page) page.");
        webhooks.MapGet("/{partner_id}/deliveries/{delivery_id}", Get)
            .WithName("GetDelivery").WithSummary("Get a delivery with its attempts");
        webhooks.MapPost("/{partner_id}/deliveries/{delivery_id}/retry", Retry)
            .WithName("RetryDelivery").WithSummary("Replay a delivery")
            .WithDescription("Sends a failed (or delivered) delivery again at once, with the whole retry schedule ahead of it and the same webhook-id. 409 while it is pending.");
        webhooks.MapPost("/{partner_id}/recover", Recover).WithJsonBody<RecoverBody>()
            .WithName("RecoverDeliveries").WithSummary("Replay failed deliveries")
            .WithDescription("Replays every delivery that failed at or after since.");
    }

    private static async Task<Results<Ok<DeliveryList>, ApiError>> List(HttpContext http, string partner_id, Store store, CancellationToken cancellationToken)
    {
        if (WebhooksApi.NotCallers(http, partner_id) is { } forbidden) return forbidden;
        var problems = new List<ValidationError>();
        var status = http.Request.Query["status"].ToString() is { Length: > 0 } s ? s : null;
        if (status is not null && !DeliveryStatus.All.Contains(status))
            problems.Add(new(["query", "status"], "Input should be 'pending', 'delivered' or 'failed'", "enum", status));
        var pageSize = QueryParameter.Integer(http, "page_size", 1, WebhookLimits.MaxPageSize, problems) ?? WebhookLimits.DefaultPageSize;
        var cursor = QueryParameter.Integer(http, "cursor", 1, long.MaxValue, problems);
        if (problems.Count > 0) return ApiError.Validation(problems);

        var (deliveries, next) = await store.ListDeliveriesAsync(partner_id, status, cursor, (int)pageSize, cancellationToken);
        return TypedResults.Ok(new DeliveryList(ResponseContext.For(http), deliveries.Select(d => Item(d)).ToList(),
            next?.ToString(CultureInfo.InvariantCulture)));
    }

    private static async Task<Results<Ok<DeliveryResult>, ApiError>> Get(HttpContext http, string partner_id, string delivery_id, Store store, CancellationToken cancellationToken)
    {
        if (WebhooksApi.NotCallers(http, partner_id) is { } forbidden) return forbidden;
        return await store.GetDeliveryAsync(partner_id, delivery_id, cancellationToken) is { } found
            ? TypedResults.Ok(new DeliveryResult(ResponseContext.For(http), Item(found.View, found.Attempts)))
            : NoDelivery(delivery_id);
    }

    private static async Task<Results<Ok<DeliveryResult>, ApiError>> Retry(
        HttpContext http, string partner_id, string delivery_id, Store store, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (WebhooksApi.NotCallers(http, partner_id) is { } forbidden) return forbidden;
        switch (await store.ReplayDeliveryAsync(partner_id, delivery_id, clock.GetUtcNow(), cancellationToken))
        {
            case Store.ReplayOutcome.NotFound:
                return NoDelivery(delivery_id);
            case Store.ReplayOutcome.AlreadyPending:
                return ApiError.Conflict($"Delivery '{delivery_id}' is pending already: it is sent when due.");
        }
        var found = await store.GetDeliveryAsync(partner_id, delivery_id, cancellationToken);
        return TypedResults.Ok(new DeliveryResult(ResponseContext.For(http), Item(found!.Value.View)));
    }

    private static async Task<Results<Ok<RecoverResult>, ApiError>> Recover(HttpContext http, string partner_id, Store store, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (document, error) = await RequestBody.ReadAsync(http, cancellationToken);
        if (error is not null) return error;
        using (document)
        {
            var validator = new BodyValidator(document!);
            // Required, then read as a time: a value that is no string at all is reported once, by the first.
            var since = validator.RequiredString("since", 1, 64) is null ? null : validator.OptionalTime("since");
            validator.OptionalObjectOrNull("request_context");
            if (validator.Finish() is { } invalid) return invalid;
            if (WebhooksApi.NotCallers(http, partner_id) is { } forbidden) return forbidden;

            var recovered = await store.RecoverFailedDeliveriesAsync(partner_id, since!.Value, clock.GetUtcNow(), cancellationToken);
            return TypedResults.Ok(new RecoverResult(ResponseContext.For(http), recovered));
        }
    }

    private static DeliveryItem Item(DeliveryView d, IReadOnlyList<DeliveryAttempt>? attempts = null) => new(
        d.DeliveryId, d.EventId, d.EventName, d.ProspectId, d.EnrollmentKey, d.Status, d.Attempts, d.CreatedAt, d.NextAttemptAt, d.FinishedAt,
        d.LastAttempt is { } last ? Attempt(last) : null, attempts?.Select(Attempt).ToList());

    private static AttemptView Attempt(DeliveryAttempt a) => new(a.Attempt, a.AttemptedAt, a.DurationMs, a.StatusCode, a.Error, a.Response);

    private static ApiError NoDelivery(string deliveryId) => ApiError.NotFound($"No delivery '{deliveryId}'.");
}
