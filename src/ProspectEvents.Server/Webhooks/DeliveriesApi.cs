using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using ProspectEvents.Server.Auth;
using ProspectEvents.Server.Http;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Webhooks;

/// <summary>
/// The delivery log and recovery, beyond the anchor, for one webhook: <c>/v1/webhooks/{partner_id}/deliveries</c> and
/// <c>/recover</c> for the partner's legacy webhook, <c>/v2/webhooks/{webhook_id}/deliveries</c> and <c>/recover</c>
/// for any of its webhooks (list, one with its attempts, replay).
/// </summary>
public static class DeliveriesApi
{
    /// <summary>Finds the webhook a route names for the caller: its id, or the error to answer.</summary>
    public delegate Task<(string? WebhookId, ApiError? Error)> WebhookOfRoute(HttpContext http, Store store, CancellationToken cancellationToken);

    /// <summary>v1: the partner in the path must be the caller; its legacy webhook's log, registered or not.</summary>
    public static readonly WebhookOfRoute LegacyOfPartner = async (http, store, cancellationToken) =>
    {
        var partnerId = (string)http.Request.RouteValues["partner_id"]!;
        if (WebhooksApi.NotCallers(http, partnerId) is { } forbidden) return (null, forbidden);
        return (await store.LegacyWebhookIdAsync(partnerId, cancellationToken), null);
    };

    /// <summary>v2: one of the caller's registered webhooks; another partner's is 404, as if it did not exist.</summary>
    public static readonly WebhookOfRoute ById = async (http, store, cancellationToken) =>
    {
        var webhookId = (string)http.Request.RouteValues["webhook_id"]!;
        return await store.GetWebhookByIdAsync(http.Caller().PartnerId, webhookId, cancellationToken) is { } webhook
            ? (webhook.WebhookId, null)
            : (null, WebhookErrors.NotFound(webhookId));
    };

    /// <param name="owner">The route parameter naming the webhook: <c>partner_id</c> (v1) or <c>webhook_id</c> (v2).</param>
    /// <param name="names">Prefix of the operation names, unique per version.</param>
    public static void MapDeliveries(this RouteGroupBuilder webhooks, string owner, WebhookOfRoute webhookOf, string names = "")
    {
        webhooks.MapGet($"/{{{owner}}}/deliveries", (HttpContext http, Store store, CancellationToken ct) => List(http, store, webhookOf, ct))
            .WithName(names + "ListDeliveries").WithSummary("List deliveries")
            .WithDescription("The webhook's deliveries, newest first. status (pending, delivered, failed) filters; page_size (1–1000, default 100) and cursor (next_cursor of the previous page) page.");
        webhooks.MapGet($"/{{{owner}}}/deliveries/{{delivery_id}}", (HttpContext http, string delivery_id, Store store, CancellationToken ct) => Get(http, delivery_id, store, webhookOf, ct))
            .WithName(names + "GetDelivery").WithSummary("Get a delivery with its attempts");
        webhooks.MapPost($"/{{{owner}}}/deliveries/{{delivery_id}}/retry",
                (HttpContext http, string delivery_id, Store store, TimeProvider clock, CancellationToken ct) => Retry(http, delivery_id, store, clock, webhookOf, ct))
            .WithName(names + "RetryDelivery").WithSummary("Replay a delivery")
            .WithDescription("Sends a failed (or delivered) delivery again at once, with the whole retry schedule ahead of it and the same webhook-id. 409 while it is pending.");
        webhooks.MapPost($"/{{{owner}}}/recover", (HttpContext http, Store store, TimeProvider clock, CancellationToken ct) => Recover(http, store, clock, webhookOf, ct))
            .WithJsonBody<RecoverBody>()
            .WithName(names + "RecoverDeliveries").WithSummary("Replay failed deliveries")
            .WithDescription("Replays every delivery that failed at or after since.");
    }

    private static async Task<Results<Ok<DeliveryList>, ApiError>> List(HttpContext http, Store store, WebhookOfRoute webhookOf, CancellationToken cancellationToken)
    {
        var (webhookId, refused) = await webhookOf(http, store, cancellationToken);
        if (refused is not null) return refused;
        var problems = new List<ValidationError>();
        var status = http.Request.Query["status"].ToString() is { Length: > 0 } s ? s : null;
        if (status is not null && !DeliveryStatus.All.Contains(status))
            problems.Add(new(["query", "status"], "Input should be 'pending', 'delivered' or 'failed'", "enum", status));
        var pageSize = QueryParameter.Integer(http, "page_size", 1, WebhookLimits.MaxPageSize, problems) ?? WebhookLimits.DefaultPageSize;
        var cursor = QueryParameter.Integer(http, "cursor", 1, long.MaxValue, problems);
        if (problems.Count > 0) return ApiError.Validation(problems);

        var (deliveries, next) = webhookId is null ? ([], null) : await store.ListDeliveriesAsync(webhookId, status, cursor, (int)pageSize, cancellationToken);
        return TypedResults.Ok(new DeliveryList(ResponseContext.For(http), deliveries.Select(d => Item(d)).ToList(),
            next?.ToString(CultureInfo.InvariantCulture)));
    }

    private static async Task<Results<Ok<DeliveryResult>, ApiError>> Get(
        HttpContext http, string delivery_id, Store store, WebhookOfRoute webhookOf, CancellationToken cancellationToken)
    {
        var (webhookId, refused) = await webhookOf(http, store, cancellationToken);
        if (refused is not null) return refused;
        return webhookId is not null && await store.GetDeliveryAsync(webhookId, delivery_id, cancellationToken) is { } found
            ? TypedResults.Ok(new DeliveryResult(ResponseContext.For(http), Item(found.View, found.Attempts)))
            : NoDelivery(delivery_id);
    }

    /// <summary>Replays a delivery of the webhook <paramref name="webhookOf"/> finds; shared with the admin replay.</summary>
    internal static async Task<Results<Ok<DeliveryResult>, ApiError>> Retry(
        HttpContext http, string delivery_id, Store store, TimeProvider clock, WebhookOfRoute webhookOf, CancellationToken cancellationToken)
    {
        var (webhookId, refused) = await webhookOf(http, store, cancellationToken);
        if (refused is not null) return refused;
        if (webhookId is null) return NoDelivery(delivery_id);
        switch (await store.ReplayDeliveryAsync(webhookId, delivery_id, clock.GetUtcNow(), cancellationToken))
        {
            case Store.ReplayOutcome.NotFound:
                return NoDelivery(delivery_id);
            case Store.ReplayOutcome.AlreadyPending:
                return ApiError.Conflict($"Delivery '{delivery_id}' is pending already: it is sent when due.");
        }
        var found = await store.GetDeliveryAsync(webhookId, delivery_id, cancellationToken);
        return TypedResults.Ok(new DeliveryResult(ResponseContext.For(http), Item(found!.Value.View)));
    }

    private static async Task<Results<Ok<RecoverResult>, ApiError>> Recover(
        HttpContext http, Store store, TimeProvider clock, WebhookOfRoute webhookOf, CancellationToken cancellationToken)
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
            var (webhookId, refused) = await webhookOf(http, store, cancellationToken);
            if (refused is not null) return refused;

            var recovered = webhookId is null ? 0 : await store.RecoverFailedDeliveriesAsync(webhookId, since!.Value, clock.GetUtcNow(), cancellationToken);
            return TypedResults.Ok(new RecoverResult(ResponseContext.For(http), recovered));
        }
    }

    private static DeliveryItem Item(DeliveryView d, IReadOnlyList<DeliveryAttempt>? attempts = null) => new(
        d.DeliveryId, d.EventId, d.EventName, d.ProspectId, d.EnrollmentKey, d.Status, d.Attempts, d.CreatedAt, d.NextAttemptAt, d.FinishedAt,
        d.LastAttempt is { } last ? Attempt(last) : null, attempts?.Select(Attempt).ToList());

    private static AttemptView Attempt(DeliveryAttempt a) => new(a.Attempt, a.AttemptedAt, a.DurationMs, a.StatusCode, a.Error, a.Response);

    private static ApiError NoDelivery(string deliveryId) => ApiError.NotFound($"No delivery '{deliveryId}'.");
}
