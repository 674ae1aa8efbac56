using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using ProspectEvents.Server.Auth;
using ProspectEvents.Server.Http;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Webhooks;

/// <summary>
/// <c>/v2/webhooks</c>: webhooks as resources of the caller's partner (docs/api.md, docs/webhooks.md "Many webhooks").
/// Another partner's webhook id answers 404, as one that does not exist.
/// </summary>
public static class WebhooksV2Api
{
    public static RouteGroupBuilder MapWebhooksV2(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v2/webhooks").WithTags("Webhooks v2").RequireApiKey();
        group.MapPost("", Create).WithJsonBody<CreateWebhookV2Body>()
            .WithName("V2CreateWebhook").WithSummary("Create a webhook")
            .WithDescription($"201 with the webhook and its secret, shown only here and by rotate_secret. Up to {WebhookModel.MaxPerPartner} webhooks a partner (the v1 webhook counts), names unique: 409 otherwise.");
        group.MapGet("", List)
            .WithName("V2ListWebhooks").WithSummary("List webhooks")
            .WithDescription("Every webhook of the partner, the v1 one with legacy true; ?status=active|disabled filters. No secrets.");
        group.MapGet("/{webhook_id}", Get)
            .WithName("V2GetWebhook").WithSummary("Get a webhook");
        group.MapPatch("/{webhook_id}", Patch).WithJsonBody<PatchWebhookV2Body>()
            .WithName("V2PatchWebhook").WithSummary("Update a webhook")
            .WithDescription("Changes the given fields only. status disabled stops deliveries (they wait); active resumes them and forgets the failure streak.");
        group.MapDelete("/{webhook_id}", Delete)
            .WithName("V2DeleteWebhook").WithSummary("Delete a webhook")
            .WithDescription("409 while active enrollments use it; ?force=true deletes it anyway, pauses them and returns their ids. Its deliveries and their log go with it.");
        group.MapPost("/{webhook_id}/rotate_secret", Rotate)
            .WithName("V2RotateWebhookSecret").WithSummary("Rotate the secret")
            .WithDescription("A new secret for this webhook; for Webhooks:RotationOverlap (default 24 h) the previous one signs too, in webhook-signature.");
        group.MapPost("/{webhook_id}/check_connectivity", CheckConnectivity).WithJsonBody<CheckConnectivityV2Body>()
            .WithName("V2CheckWebhookConnectivity").WithSummary("Send test events")
            .WithDescription("Sends 1–10 signed test events to this webhook now; the body may be left out. 400 'Client webhook failed on: …' when the receiver does not answer 2xx.");
        group.MapDeliveries("webhook_id", DeliveriesApi.ById, "V2");
        return group;
    }

    private static async Task<Results<Created<WebhookV2View>, ApiError>> Create(
        HttpContext http, Store store, TimeProvider clock, IOptions<WebhookOptions> options, CancellationToken cancellationToken)
    {
        var (document, error) = await RequestBody.ReadAsync(http, cancellationToken);
        if (error is not null) return error;
        using (document)
        {
            var validator = new BodyValidator(document!);
            var name = validator.RequiredString("name", 1, WebhookV2Limits.MaxNameLength);
            var url = validator.RequiredString("webhook_url", 1, WebhookV2Limits.MaxUrlLength);
            var description = validator.OptionalString("description", 0, WebhookV2Limits.MaxDescriptionLength);
            var headers = validator.OptionalStringList("headers", WebhookLimits.MaxHeaders, WebhookHeaders.Problem);
            var format = validator.OptionalEnum("payload_format", WebhookPayload.Formats) ?? WebhookPayload.Json;
            if (url is not null) await WebhooksApi.CheckUrlAsync(validator, url, options.Value, cancellationToken);
            if (validator.Finish() is { } invalid) return invalid;

            var secret = WebhookSecret.New();
            var spec = new WebhookSpec(name!, string.IsNullOrEmpty(description) ? null : description, url!, headers ?? [], format, secret);
            var created = await store.CreateWebhookAsync(http.Caller().PartnerId, spec, clock.GetUtcNow(), cancellationToken);
            return created.Outcome switch
            {
                WebhookWrite.Done => TypedResults.Created($"/v2/webhooks/{created.Webhook!.WebhookId}",
                    View(created.Webhook, ResponseContext.For(http)) with
                    {
                        WebhookSecret = WebhookSecret.ToAnchorText(secret),
                        StandardWebhooksSecret = WebhookSecret.ToStandardText(secret),
                    }),
                WebhookWrite.LimitReached => WebhookErrors.LimitReached(),
                _ => WebhookErrors.NameTaken(name!),
            };
        }
    }

    private static async Task<Results<Ok<WebhookV2List>, ApiError>> List(HttpContext http, Store store, CancellationToken cancellationToken)
    {
        bool? enabled = null;
        if (http.Request.Query.TryGetValue("status", out var values))
        {
            enabled = values.ToString() switch { "active" => true, "disabled" => false, _ => null };
            if (enabled is null) return ApiError.Validation(new ValidationError(["query", "status"], "Input should be 'active' or 'disabled'", "enum", values.ToString()));
        }
        var webhooks = await store.ListWebhooksAsync(http.Caller().PartnerId, enabled, cancellationToken);
        return TypedResults.Ok(new WebhookV2List(ResponseContext.For(http), webhooks.Select(w => View(w, null)).ToList()));
    }

    private static async Task<Results<Ok<WebhookV2View>, ApiError>> Get(HttpContext http, string webhook_id, Store store, CancellationToken cancellationToken) =>
        await store.GetWebhookByIdAsync(http.Caller().PartnerId, webhook_id, cancellationToken) is { } webhook
            ? TypedResults.Ok(View(webhook, ResponseContext.For(http)))
            : WebhookErrors.NotFound(webhook_id);

    private static async Task<Results<Ok<WebhookV2View>, ApiError>> Patch(
        HttpContext http, string webhook_id, Store store, TimeProvider clock, IOptions<WebhookOptions> options, CancellationToken cancellationToken)
    {
        var (document, error) = await RequestBody.ReadAsync(http, cancellationToken);
        if (error is not null) return error;
        using (document)
        {
            var validator = new BodyValidator(document!);
            var name = validator.OptionalString("name", 1, WebhookV2Limits.MaxNameLength);
            var description = validator.OptionalString("description", 0, WebhookV2Limits.MaxDescriptionLength);
            var url = validator.OptionalString("webhook_url", 1, WebhookV2Limits.MaxUrlLength);
            var headers = validator.OptionalStringList("headers", WebhookLimits.MaxHeaders, WebhookHeaders.Problem);
            var format = validator.OptionalEnum("payload_format", WebhookPayload.Formats);
            var status = validator.OptionalEnum("status", ["active", "disabled"]);
            if (url is not null) await WebhooksApi.CheckUrlAsync(validator, url, options.Value, cancellationToken);
            if (validator.Finish() is { } invalid) return invalid;

            var patch = new WebhookPatch(name, description, url, headers, format, status switch { "active" => true, "disabled" => false, _ => null });
            var patched = await store.PatchWebhookAsync(http.Caller().PartnerId, webhook_id, patch, clock.GetUtcNow(), cancellationToken);
            return patched.Outcome switch
            {
                WebhookWrite.Done => TypedResults.Ok(View(patched.Webhook!, ResponseContext.For(http))),
                WebhookWrite.Legacy => WebhookErrors.Legacy(webhook_id),
                WebhookWrite.NameTaken => WebhookErrors.NameTaken(name!),
                _ => WebhookErrors.NotFound(webhook_id),
            };
        }
    }

    private static async Task<Results<Ok<WebhookV2Deleted>, ApiError>> Delete(HttpContext http, string webhook_id, Store store, CancellationToken cancellationToken)
    {
        var force = false;
        if (http.Request.Query.TryGetValue("force", out var values) && !TryParseBool(values.ToString(), out force))
            return ApiError.Validation(new ValidationError(["query", "force"], "Input should be a valid boolean, unable to interpret input", "bool_parsing", values.ToString()));
        var deleted = await store.DeleteWebhookByIdAsync(http.Caller().PartnerId, webhook_id, force, cancellationToken);
        return deleted.Outcome switch
        {
            WebhookWrite.Done => TypedResults.Ok(new WebhookV2Deleted(ResponseContext.For(http), deleted.Enrollments!)),
            WebhookWrite.Legacy => WebhookErrors.Legacy(webhook_id),
            WebhookWrite.InUse => WebhookErrors.InUse(webhook_id, deleted.Enrollments!),
            _ => WebhookErrors.NotFound(webhook_id),
        };
    }

    private static async Task<Results<Ok<WebhookSecretRotated>, ApiError>> Rotate(
        HttpContext http, string webhook_id, Store store, TimeProvider clock, IOptions<WebhookOptions> options, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var secret = WebhookSecret.New();
        var until = now + options.Value.RotationOverlap;
        var rotated = await store.RotateWebhookSecretAsync(http.Caller().PartnerId, webhook_id, secret, until, now, cancellationToken);
        return rotated.Outcome switch
        {
            WebhookWrite.Done => TypedResults.Ok(new WebhookSecretRotated(ResponseContext.For(http), webhook_id,
                WebhookSecret.ToAnchorText(secret), WebhookSecret.ToStandardText(secret), rotated.Webhook!.PreviousSecretUntil)),
            WebhookWrite.Legacy => WebhookErrors.Legacy(webhook_id),
            _ => WebhookErrors.NotFound(webhook_id),
        };
    }

    private static async Task<Results<Ok<ConnectivityReport>, ApiError>> CheckConnectivity(
        HttpContext http, string webhook_id, Store store, WebhookSender sender, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tests = (EventName: EventTypeNames.ChangedCompany, Count: 1, EventTime: clock.GetUtcNow());
        if (!RequestBody.IsAbsent(http))
        {
            var (document, error) = await RequestBody.ReadAsync(http, cancellationToken);
            if (error is not null) return error;
            using (document)
            {
                var validator = new BodyValidator(document!);
                tests = WebhooksApi.ReadSimulation(validator, clock, v2: true);
                if (validator.Finish() is { } invalid) return invalid;
            }
        }
        if (await store.GetWebhookByIdAsync(http.Caller().PartnerId, webhook_id, cancellationToken) is not { } webhook) return WebhookErrors.NotFound(webhook_id);
        return await WebhooksApi.SendTestsAsync(http, sender, webhook, tests, v2: true, cancellationToken);
    }

    // As pydantic reads a boolean query parameter.
    private static bool TryParseBool(string text, out bool value)
    {
        switch (text.ToLowerInvariant())
        {
            case "true" or "1" or "yes" or "on" or "t" or "y":
                value = true;
                return true;
            case "false" or "0" or "no" or "off" or "f" or "n":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    internal static WebhookV2View View(WebhookRecord webhook, ResponseContext? context) => new(
        context, webhook.WebhookId, new WebhookScope("partner", webhook.PartnerId), webhook.Name, webhook.Description, webhook.WebhookUrl,
        webhook.Headers, webhook.PayloadFormat, webhook.Enabled ? "active" : "disabled", webhook.Legacy, webhook.CreatedAt, webhook.UpdatedAt,
        webhook.DisabledReason);
}
