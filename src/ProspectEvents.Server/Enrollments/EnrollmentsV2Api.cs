using Microsoft.AspNetCore.Http.HttpResults;
using ProspectEvents.Server.Auth;
using ProspectEvents.Server.Http;
using ProspectEvents.Server.Webhooks;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Enrollments;

/// <summary>
/// <c>/v2/prospects/events/enrollments</c>: the same enrollments v1 sees, each delivering to one of the partner's
/// webhooks (docs/api.md "Enrollments in v2").
/// </summary>
public static class EnrollmentsV2Api
{
    public static RouteGroupBuilder MapEnrollmentsV2(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v2/prospects/events/enrollments").WithTags("Enrollments v2").RequireApiKey();
        group.MapPost("", Add).WithJsonBody<AddEnrollmentV2Body>()
            .WithName("V2AddProspectsEnrollments").WithSummary("Add prospects enrollments")
            .WithDescription("Enrolls 1–1,000 prospects under enrollment_key, delivered to webhook_id (an active webhook of the partner: unknown 404, not usable 422). 201 for a new key; an existing key with the same webhook adds the prospects and event types (200), with another webhook 409.");
        group.MapGet("", List)
            .WithName("V2GetProspectsEnrollments").WithSummary("List enrollments")
            .WithDescription("Every enrollment of the partner, v1-made ones included (with the v1 webhook's id), with webhook_id and status. page and page_size (1–1000) page through them.");
        group.MapPatch("/{enrollment_id}", Patch).WithJsonBody<PatchEnrollmentV2Body>()
            .WithName("V2UpdateProspectsEnrollment").WithSummary("Update an enrollment")
            .WithDescription("Changes the given fields only; prospect_ids replaces the list. Naming an active webhook_id re-points the enrollment and makes a paused one active.");
        group.MapDelete("/{enrollment_id}", Delete)
            .WithName("V2DeleteProspectsEnrollment").WithSummary("Delete an enrollment");
        return group;
    }

    private static async Task<Results<Created<EnrollmentV2Saved>, Ok<EnrollmentV2Saved>, ApiError>> Add(
        HttpContext http, Store store, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (document, error) = await RequestBody.ReadAsync(http, cancellationToken);
        if (error is not null) return error;
        using (document)
        {
            var validator = new BodyValidator(document!);
            var now = clock.GetUtcNow();
            var webhookId = validator.RequiredString("webhook_id", 1, 64);
            var request = EnrollmentsApi.ReadEnrollment(validator, now, EnrollmentLimits.MaxProspectIdsV2);
            if (validator.Finish() is { } invalid) return invalid;

            var saved = await store.UpsertEnrollmentV2Async(http.Caller().PartnerId, webhookId!, request!, now, cancellationToken);
            if (Refused(saved, webhookId!, request!.EnrollmentKey) is { } refused) return refused;
            var body = Saved(http, saved);
            return saved.Outcome == EnrollmentWrite.Created ? TypedResults.Created((string?)null, body) : TypedResults.Ok(body);
        }
    }

    private static async Task<Results<Ok<EnrollmentV2List>, ApiError>> List(HttpContext http, Store store, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (page, invalid) = await EnrollmentsApi.PageAsync(http, store, clock, cancellationToken);
        if (invalid is not null) return invalid;
        var views = page!.Rows.Select(e => new EnrollmentV2View(e.EnrollmentKey, e.EnrollmentId, e.WebhookId, e.Status, EventTypeNames.ToNames(e.EventTypes), e.ProspectIds)).ToList();
        return TypedResults.Ok(page.Paged
            ? new EnrollmentV2List(ResponseContext.For(http), views, page.Page, page.Size, page.HasMore)
            : new EnrollmentV2List(ResponseContext.For(http), views));
    }

    private static async Task<Results<Ok<EnrollmentV2Saved>, ApiError>> Patch(
        HttpContext http, string enrollment_id, Store store, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (document, error) = await RequestBody.ReadAsync(http, cancellationToken);
        if (error is not null) return error;
        using (document)
        {
            var validator = new BodyValidator(document!);
            var now = clock.GetUtcNow();
            var key = validator.OptionalString("enrollment_key", EnrollmentLimits.KeyMinLength, EnrollmentLimits.KeyMaxLength);
            var webhookId = validator.OptionalString("webhook_id", 1, 64);
            var eventTypes = validator.Has("event_types") ? validator.EventTypes(EnrollmentLimits.MaxEventTypesV2) : null;
            var prospectIds = validator.Has("prospect_ids") ? validator.ProspectIds(EnrollmentLimits.MaxProspectIdsV2) : null;
            var expiresAt = EnrollmentsApi.ReadExpiry(validator, now);
            if (expiresAt is not null && !validator.Has("prospect_ids"))
                validator.Reject("ttl_days", "Value error, ttl_days applies to the prospect_ids of the same request: send them together");
            validator.Allow("event_types"); // null or absent: left as they are
            validator.Allow("prospect_ids");
            if (validator.Finish() is { } invalid) return invalid;

            var patch = new EnrollmentPatch(key, webhookId, eventTypes is null ? null : EnrollmentsApi.TypesOf(eventTypes),
                prospectIds?.Distinct(StringComparer.Ordinal).ToList());
            var saved = await store.PatchEnrollmentAsync(http.Caller().PartnerId, enrollment_id, patch, expiresAt, now, cancellationToken);
            if (saved.Outcome == EnrollmentWrite.NotFound) return EnrollmentsApi.NotFound(enrollment_id);
            return Refused(saved, webhookId, key) ?? (Results<Ok<EnrollmentV2Saved>, ApiError>)TypedResults.Ok(Saved(http, saved));
        }
    }

    private static async Task<Results<Ok<StatusResult>, ApiError>> Delete(HttpContext http, string enrollment_id, Store store, CancellationToken cancellationToken) =>
        await store.DeleteEnrollmentAsync(http.Caller().PartnerId, enrollment_id, cancellationToken)
            ? TypedResults.Ok(new StatusResult(ResponseContext.For(http), "success"))
            : EnrollmentsApi.NotFound(enrollment_id);

    /// <summary>The error a write that was not applied answers, or null.</summary>
    private static ApiError? Refused(EnrollmentWriteResult saved, string? webhookId, string? key) => saved.Outcome switch
    {
        EnrollmentWrite.WebhookNotFound => WebhookErrors.NotFound(webhookId!),
        EnrollmentWrite.WebhookUnusable => ApiError.Validation(new ValidationError(["body", "webhook_id"],
            "Value error, the webhook must be an active webhook of this partner (see GET /v2/webhooks)", "value_error", webhookId)),
        EnrollmentWrite.WebhookConflict => ApiError.Conflict(
            $"Enrollment key '{key}' names an enrollment that delivers to another webhook; re-point it with PATCH /v2/prospects/events/enrollments/{{enrollment_id}}."),
        EnrollmentWrite.KeyTaken => ApiError.Conflict($"Another enrollment already has enrollment_key '{key}'."),
        _ => null,
    };

    private static EnrollmentV2Saved Saved(HttpContext http, EnrollmentWriteResult saved) =>
        new(ResponseContext.For(http), saved.EnrollmentKey!, saved.EnrollmentId!, saved.WebhookId, saved.Status!);
}
