using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using ProspectEvents.Server.Auth;
using ProspectEvents.Server.Http;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Webhooks;

/// <summary><c>/v1/webhooks</c>: the partner's one webhook (the anchor's endpoints) and its test sends.</summary>
public static class WebhooksApi
{
    public static RouteGroupBuilder MapWebhooks(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/webhooks").WithTags("Webhooks").RequireApiKey();
        group.MapPost("", Register).WithJsonBody<RegisterWebhookBody>()
            .WithName("AddWebhook").WithSummary("Register the webhook")
            .WithDescription("Registers where the partner's events are delivered. Registering again replaces the webhook: a new secret, and a disabled webhook is enabled again.");
        group.MapGet("/{partner_id}", Get)
            .WithName("GetWebhook").WithSummary("Get the webhook");
        group.MapPut("/{partner_id}", Update).WithJsonBody<UpdateWebhookBody>()
            .WithName("UpdateWebhook").WithSummary("Change the webhook URL")
            .WithDescription("Points the webhook at a new URL, keeping its secret; a disabled webhook is enabled again.");
        group.MapDelete("/{partner_id}", Delete)
            .WithName("DeleteWebhook").WithSummary("Delete the webhook")
            .WithDescription("Deliveries due meanwhile wait for the next registration.");
        group.MapPost("/check_connectivity", CheckConnectivity).WithJsonBody<CheckConnectivityBody>()
            .WithName("CheckWebhookConnectivity").WithSummary("Send test events")
            .WithDescription("Sends 1–10 signed test events to the webhook now, one after another; 400 'Client webhook failed on: …' when the receiver does not answer 2xx.");
        group.MapDeliveries("partner_id", DeliveriesApi.LegacyOfPartner);
        return group;
    }

    private static async Task<Results<Ok<WebhookView>, ApiError>> Register(
        HttpContext http, Store store, TimeProvider clock, IOptions<WebhookOptions> options, CancellationToken cancellationToken)
    {
        var (document, error) = await RequestBody.ReadAsync(http, cancellationToken);
        if (error is not null) return error;
        using (document)
        {
            var validator = new BodyValidator(document!);
            var partnerId = validator.RequiredString("partner_id", 1, 64);
            var url = validator.RequiredString("webhook_url", 1, WebhookLimits.MaxUrlLength);
            var headers = validator.OptionalStringList("headers", WebhookLimits.MaxHeaders, WebhookHeaders.Problem);
            var format = validator.OptionalEnum("payload_format", WebhookPayload.Formats) ?? WebhookPayload.Json;
            validator.OptionalObjectOrNull("request_context");
            if (url is not null) await CheckUrlAsync(validator, url, options.Value, cancellationToken);
            if (validator.Finish() is { } invalid) return invalid;
            if (NotCallers(http, partnerId!) is { } forbidden) return forbidden;

            var registration = new WebhookRegistration(url!, WebhookSecret.New(), headers ?? [], format);
            return await store.RegisterWebhookAsync(partnerId!, registration, clock.GetUtcNow(), cancellationToken) is { } webhook
                ? TypedResults.Ok(View(http, webhook))
                : WebhookErrors.LimitReached();
        }
    }

    private static async Task<Results<Ok<WebhookView>, ApiError>> Get(HttpContext http, string partner_id, Store store, CancellationToken cancellationToken)
    {
        if (NotCallers(http, partner_id) is { } forbidden) return forbidden;
        return await store.GetWebhookAsync(partner_id, cancellationToken) is { } webhook ? TypedResults.Ok(View(http, webhook)) : NoWebhook(partner_id);
    }

    private static async Task<Results<Ok<WebhookView>, ApiError>> Update(
        HttpContext http, string partner_id, Store store, TimeProvider clock, IOptions<WebhookOptions> options, CancellationToken cancellationToken)
    {
        var (document, error) = await RequestBody.ReadAsync(http, cancellationToken);
        if (error is not null) return error;
        using (document)
        {
            var validator = new BodyValidator(document!);
            var url = validator.RequiredString("webhook_url", 1, WebhookLimits.MaxUrlLength);
            validator.OptionalObjectOrNull("request_context");
            if (url is not null) await CheckUrlAsync(validator, url, options.Value, cancellationToken);
            if (validator.Finish() is { } invalid) return invalid;
            if (NotCallers(http, partner_id) is { } forbidden) return forbidden;

            return await store.UpdateWebhookUrlAsync(partner_id, url!, clock.GetUtcNow(), cancellationToken) is { } webhook
                ? TypedResults.Ok(View(http, webhook))
                : NoWebhook(partner_id);
        }
    }

    private static async Task<Results<Ok<ResponseOnly>, ApiError>> Delete(
        HttpContext http, string partner_id, Store store, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (NotCallers(http, partner_id) is { } forbidden) return forbidden;
        return await store.DeleteWebhookAsync(partner_id, clock.GetUtcNow(), cancellationToken) ? TypedResults.Ok(new ResponseOnly(ResponseContext.For(http))) : NoWebhook(partner_id);
    }

    private static async Task<Results<Ok<ConnectivityReport>, ApiError>> CheckConnectivity(
        HttpContext http, Store store, WebhookSender sender, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (document, error) = await RequestBody.ReadAsync(http, cancellationToken);
        if (error is not null) return error;
        using (document)
        {
            var validator = new BodyValidator(document!);
            var partnerId = validator.RequiredString("partner_id", 1, 64);
            var tests = ReadSimulation(validator, clock);
            validator.OptionalObjectOrNull("request_context");
            if (validator.Finish() is { } invalid) return invalid;
            if (NotCallers(http, partnerId!) is { } forbidden) return forbidden;
            if (await store.GetWebhookAsync(partnerId!, cancellationToken) is not { } webhook) return NoWebhook(partnerId!);
            return await SendTestsAsync(http, sender, webhook, tests, v2: false, cancellationToken);
        }
    }

    /// <summary>
    /// The optional <c>simulation</c> block of a connectivity check: which test events to send (one by default). v2 takes
    /// any name of the anchor's shared EventTypeEnum, as its V2WebhookSimulation does (business types included, e.g.
    /// executive_joined_company); v1's WebhookSimulationEventType has the prospect types only.
    /// </summary>
    internal static (string EventName, int Count, DateTimeOffset EventTime) ReadSimulation(BodyValidator validator, TimeProvider clock, bool v2 = false)
    {
        var simulation = validator.OptionalObject("simulation");
        var eventName = simulation?.OptionalEnum("event_name", v2 ? AnchorEventTypes.All : EventTypeNames.All) ?? EventTypeNames.ChangedCompany;
        var count = simulation?.OptionalInt("number_of_events", 1, WebhookLimits.MaxSimulatedEvents) ?? 1;
        var eventTime = simulation?.OptionalTime("event_time") ?? clock.GetUtcNow();
        return (eventName, count, eventTime);
    }

    /// <summary>Sends the test events one after another, stopping at the first the receiver does not take (400).</summary>
    internal static async Task<Results<Ok<ConnectivityReport>, ApiError>> SendTestsAsync(HttpContext http, WebhookSender sender, WebhookRecord webhook,
        (string EventName, int Count, DateTimeOffset EventTime) tests, bool v2, CancellationToken cancellationToken)
    {
        var results = new List<ConnectivityResult>();
        WebhookPayload.V2Source? source = v2 ? new(webhook.WebhookId, SimulatedEvents.EnrollmentKey) : null;
        foreach (var test in SimulatedEvents.Create(tests.EventName, tests.Count, tests.EventTime))
        {
            var body = WebhookPayload.For(test, webhook.PartnerId, SimulatedEvents.EnrollmentKey, webhook.PayloadFormat, source);
            var result = await sender.SendAsync(webhook, SimulatedEvents.NewMessageId(), body, cancellationToken);
            if (!result.Succeeded) return ApiError.BadRequest($"Client webhook failed on: {result.Problem}");
            results.Add(new ConnectivityResult(test.EventId, result.StatusCode, Math.Round(result.Duration.TotalMilliseconds, 3)));
        }
        return TypedResults.Ok(new ConnectivityReport(ResponseContext.For(http), results));
    }

    /// <summary>403 unless <paramref name="partnerId"/> is the caller's own: webhooks are private to their partner.</summary>
    internal static ApiError? NotCallers(HttpContext http, string partnerId) =>
        partnerId == http.Caller().PartnerId ? null : ApiError.Forbidden($"partner_id '{partnerId}' is not the partner of this API key.");

    internal static async Task CheckUrlAsync(BodyValidator validator, string url, WebhookOptions options, CancellationToken cancellationToken)
    {
        if (await OutboundGuard.CheckUrlAsync(url, options.AllowPrivateNetworks, cancellationToken) is { } problem)
            validator.Reject("webhook_url", $"Value error, {problem}");
    }

    private static ApiError NoWebhook(string partnerId) => ApiError.NotFound($"Partner '{partnerId}' has no webhook; register one with POST /v1/webhooks.");

    private static WebhookView View(HttpContext http, WebhookRecord webhook) => new(
        ResponseContext.For(http), webhook.CreatedAt, webhook.UpdatedAt, webhook.WebhookUrl,
        WebhookSecret.ToAnchorText(webhook.Secret), WebhookSecret.ToStandardText(webhook.Secret), webhook.Headers, webhook.PayloadFormat,
        webhook.Enabled ? "enabled" : "disabled", webhook.DisabledAt, webhook.DisabledReason);
}
