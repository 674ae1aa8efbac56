using Microsoft.AspNetCore.Http.HttpResults;
using ProspectEvents.Server.Http;
using ProspectEvents.Server.Webhooks;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Admin;

/// <summary>
/// The operator's reads over every partner (what <c>/dashboard</c> shows), and a replay of any partner's delivery;
/// mapped on the admin group, so admin keys only.
/// </summary>
public static class OperatorApi
{
    /// <summary>The admin replay: the delivery's webhook, whichever partner it belongs to.</summary>
    private static readonly DeliveriesApi.WebhookOfRoute AnyPartner = async (http, store, cancellationToken) =>
        (await store.WebhookOfDeliveryAsync((string)http.Request.RouteValues["delivery_id"]!, cancellationToken), null);

    public static RouteGroupBuilder MapOperatorReads(this RouteGroupBuilder admin)
    {
        admin.MapGet("/stats/events_per_day", EventsPerDay).WithSummary("Events detected per day, by event name")
            .WithDescription($"One entry per UTC day of the last days (1–{EventsPerDayResult.MaxDays}, default {EventsPerDayResult.DefaultDays}) ending today, oldest first, days without events included.");
        admin.MapGet("/ingests", Ingests).WithSummary("Recent ingests")
            .WithDescription($"The latest ingests (HTTP and the ingest verb), newest first; limit 1–{IngestRunList.MaxLimit}, default {IngestRunList.DefaultLimit}. The last {Store.KeptIngestRuns} are kept.");
        admin.MapGet("/webhooks/health", WebhookHealth).WithSummary("Every webhook's health")
            .WithDescription("Each registered webhook of every partner (v1 and v2): status and why it was disabled, pending and failed deliveries, how long the oldest due delivery has waited, and its attempts over the last hour and day (delivered, failed, p95 latency).");
        admin.MapGet("/deliveries/failed", FailedDeliveries).WithSummary("Failed deliveries over all partners")
            .WithDescription($"Dead letters, latest failure first, with partner, webhook, event and the last error; limit 1–{FailedDeliveryList.MaxLimit}, default {FailedDeliveryList.DefaultLimit}.");
        admin.MapPost("/deliveries/{delivery_id}/retry",
                (HttpContext http, string delivery_id, Store store, TimeProvider clock, CancellationToken ct) => DeliveriesApi.Retry(http, delivery_id, store, clock, AnyPartner, ct))
            .WithName("AdminRetryDelivery").WithSummary("Replay any partner's delivery")
            .WithDescription("As the partner's own replay: sends a failed (or delivered) delivery again at once, with the whole retry schedule ahead of it and the same webhook-id. 409 while it is pending.");
        return admin;
    }

    private static async Task<Results<Ok<EventsPerDayResult>, ApiError>> EventsPerDay(HttpContext http, Store store, TimeProvider clock, CancellationToken cancellationToken)
    {
        var problems = new List<ValidationError>();
        var days = (int)(QueryParameter.Integer(http, "days", 1, EventsPerDayResult.MaxDays, problems) ?? EventsPerDayResult.DefaultDays);
        if (problems.Count > 0) return ApiError.Validation(problems);

        var perDay = await store.EventsPerDayAsync(days, clock.GetUtcNow(), cancellationToken);
        // Every known type in every day, so a chart's series are the same each day; a name we no longer emit still shows.
        var names = EventTypeNames.All.Concat(perDay.SelectMany(d => d.ByEventName.Keys).Except(EventTypeNames.All).Order(StringComparer.Ordinal)).ToList();
        var views = perDay.Select(d => new DayView(d.Day, d.ByEventName.Values.Sum(),
            names.ToDictionary(n => n, n => d.ByEventName.GetValueOrDefault(n), StringComparer.Ordinal))).ToList();
        return TypedResults.Ok(new EventsPerDayResult(ResponseContext.For(http), days, perDay[0].Day, perDay[^1].Day, names, views));
    }

    private static async Task<Results<Ok<IngestRunList>, ApiError>> Ingests(HttpContext http, Store store, CancellationToken cancellationToken)
    {
        var problems = new List<ValidationError>();
        var limit = (int)(QueryParameter.Integer(http, "limit", 1, IngestRunList.MaxLimit, problems) ?? IngestRunList.DefaultLimit);
        if (problems.Count > 0) return ApiError.Validation(problems);

        var runs = await store.RecentIngestRunsAsync(limit, cancellationToken);
        return TypedResults.Ok(new IngestRunList(ResponseContext.For(http), runs.Select(r => new IngestRunView(r.Source, r.StartedAt, r.FinishedAt,
            r.Observations, r.Rejected, r.Stale, r.Events, r.Seconds, Math.Round((r.Observations + r.Rejected) / Math.Max(r.Seconds, 0.001), 1), r.Error)).ToList()));
    }

    private static async Task<Ok<WebhookHealthList>> WebhookHealth(HttpContext http, Store store, TimeProvider clock, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var health = await store.WebhookHealthAsync(now, cancellationToken);
        return TypedResults.Ok(new WebhookHealthList(ResponseContext.For(http), health.Select(h => new WebhookHealthView(
            h.WebhookId, h.PartnerId, h.PartnerName, h.Legacy, h.Name, h.WebhookUrl, h.DisabledAt is null ? "enabled" : "disabled", h.DisabledAt, h.DisabledReason,
            h.FailingSince, h.Pending, h.Failed, h.OldestDueAt is { } due ? Math.Round((now - due).TotalSeconds, 3) : null,
            Window(h.LastHour), Window(h.LastDay))).ToList()));
    }

    private static AttemptWindowView Window(Store.AttemptWindow w) => new(w.Delivered, w.Failed, w.P95Ms);

    private static async Task<Results<Ok<FailedDeliveryList>, ApiError>> FailedDeliveries(HttpContext http, Store store, CancellationToken cancellationToken)
    {
        var problems = new List<ValidationError>();
        var limit = (int)(QueryParameter.Integer(http, "limit", 1, FailedDeliveryList.MaxLimit, problems) ?? FailedDeliveryList.DefaultLimit);
        if (problems.Count > 0) return ApiError.Validation(problems);

        var failed = await store.RecentFailedDeliveriesAsync(limit, cancellationToken);
        return TypedResults.Ok(new FailedDeliveryList(ResponseContext.For(http), failed.Select(f => new FailedDeliveryView(f.DeliveryId, f.PartnerId, f.PartnerName,
            f.WebhookId, f.WebhookName, f.EventId, f.EventName, f.ProspectId, f.EnrollmentKey, f.Attempts, f.FinishedAt, f.LastStatusCode,
            f.LastError ?? (f.LastStatusCode is { } code ? $"HTTP {code}" : null))).ToList()));
    }
}
