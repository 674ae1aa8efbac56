using Microsoft.AspNetCore.Http.HttpResults;
using ProspectEvents.Server.Auth;
using ProspectEvents.Server.Http;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Enrollments;

/// <summary><c>/v1/prospects/events/enrollments</c>: which prospects a partner monitors, for which events.</summary>
public static class EnrollmentsApi
{
    public static RouteGroupBuilder MapEnrollments(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/prospects/events/enrollments").WithTags("Enrollments").RequireApiKey();

        group.MapPost("", Add).WithJsonBody<AddEnrollmentBody>()
            .WithName("AddProspectsEnrollments").WithSummary("Add prospects enrollments")
            .WithDescription("Enrolls 1–20 prospects for the given event types under enrollment_key. Posting an existing key adds the prospects to that enrollment, unions the event types and returns the same enrollment_id.");
        group.MapGet("", List)
            .WithName("GetProspectsEnrollments").WithSummary("List enrollments")
            .WithDescription("Lists the caller's enrollments with the prospects they still monitor. All by default; page and page_size (1–1000) page through them.");
        group.MapPatch("", Replace).WithJsonBody<ReplaceEnrollmentBody>()
            .WithName("UpdateProspectsEnrollments").WithSummary("Replace an enrollment")
            .WithDescription("Full replacement: the enrollment gets exactly the given key, event types and prospects (with ttl_days, if given, for all of them).");
        group.MapDelete("", Delete).WithJsonBody<DeleteEnrollmentBody>()
            .WithName("DeleteProspectsEnrollments").WithSummary("Delete an enrollment");
        return group;
    }

    private static async Task<Results<Ok<EnrollmentSaved>, ApiError>> Add(HttpContext http, Store store, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (document, error) = await RequestBody.ReadAsync(http, cancellationToken);
        if (error is not null) return error;
        using (document)
        {
            var validator = new BodyValidator(document!);
            var now = clock.GetUtcNow();
            var request = ReadEnrollment(validator, now);
            if (validator.Finish() is { } invalid) return invalid;

            var enrollmentId = await store.UpsertEnrollmentAsync(http.Caller().PartnerId, request!, now, cancellationToken);
            return TypedResults.Ok(new EnrollmentSaved(ResponseContext.For(http), request!.EnrollmentKey, enrollmentId));
        }
    }

    private static async Task<Results<Ok<EnrollmentList>, ApiError>> List(HttpContext http, Store store, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (page, invalid) = await PageAsync(http, store, clock, cancellationToken);
        if (invalid is not null) return invalid;
        var views = page!.Rows.Select(e => new EnrollmentView(e.EnrollmentId, e.EnrollmentKey, EventTypeNames.ToNames(e.EventTypes), e.ProspectIds)).ToList();
        return TypedResults.Ok(page.Paged
            ? new EnrollmentList(ResponseContext.For(http), views, page.Page, page.Size, page.HasMore)
            : new EnrollmentList(ResponseContext.For(http), views));
    }

    /// <summary>A page of enrollments; <see cref="Paged"/> false: all of them.</summary>
    internal sealed record EnrollmentPage(List<Enrollment> Rows, bool Paged, int Page, int Size, bool HasMore);

    /// <summary>
    /// The caller's enrollments: all of them unless <c>page</c> or <c>page_size</c> (our extension) is given; the 422 to
    /// answer instead when those are invalid.
    /// </summary>
    internal static async Task<(EnrollmentPage? Page, ApiError? Invalid)> PageAsync(HttpContext http, Store store, TimeProvider clock, CancellationToken cancellationToken)
    {
        var problems = new List<ValidationError>();
        var page = (int?)QueryParameter.Integer(http, "page", 1, int.MaxValue, problems);
        var pageSize = (int?)QueryParameter.Integer(http, "page_size", 1, EnrollmentLimits.MaxPageSize, problems);
        if (problems.Count > 0) return (null, ApiError.Validation(problems));

        var paged = page is not null || pageSize is not null;
        var size = pageSize ?? (paged ? 100 : int.MaxValue);
        var offset = paged ? (int)Math.Min(int.MaxValue, ((long)(page ?? 1) - 1) * size) : 0;
        // One extra row tells whether another page follows.
        var rows = await store.ListEnrollmentsAsync(http.Caller().PartnerId, clock.GetUtcNow(), offset, paged ? size + 1 : size, cancellationToken);
        var hasMore = paged && rows.Count > size;
        return (new EnrollmentPage([.. rows.Take(size)], paged, page ?? 1, size, hasMore), null);
    }

    private static async Task<Results<Ok<EnrollmentSaved>, ApiError>> Replace(HttpContext http, Store store, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (document, error) = await RequestBody.ReadAsync(http, cancellationToken);
        if (error is not null) return error;
        using (document)
        {
            var validator = new BodyValidator(document!);
            var now = clock.GetUtcNow();
            var enrollmentId = validator.RequiredString("enrollment_id", 1, 64);
            var request = ReadEnrollment(validator, now);
            if (validator.Finish() is { } invalid) return invalid;

            return await store.ReplaceEnrollmentAsync(http.Caller().PartnerId, enrollmentId!, request!, now, cancellationToken) switch
            {
                ReplaceOutcome.Replaced => TypedResults.Ok(new EnrollmentSaved(ResponseContext.For(http), request!.EnrollmentKey, enrollmentId!)),
                ReplaceOutcome.KeyTaken => ApiError.Conflict($"Another enrollment already has enrollment_key '{request!.EnrollmentKey}'."),
                _ => NotFound(enrollmentId!),
            };
        }
    }

    private static async Task<Results<Ok<StatusResult>, ApiError>> Delete(HttpContext http, Store store, CancellationToken cancellationToken)
    {
        var (document, error) = await RequestBody.ReadAsync(http, cancellationToken);
        if (error is not null) return error;
        using (document)
        {
            var validator = new BodyValidator(document!);
            var enrollmentId = validator.RequiredString("enrollment_id", 1, 64);
            if (validator.Finish() is { } invalid) return invalid;

            return await store.DeleteEnrollmentAsync(http.Caller().PartnerId, enrollmentId!, cancellationToken)
                ? TypedResults.Ok(new StatusResult(ResponseContext.For(http), "success"))
                : NotFound(enrollmentId!);
        }
    }

    /// <summary>The fields POST and PATCH share; null when any of them is invalid (the validator holds why).</summary>
    internal static EnrollmentRequest? ReadEnrollment(BodyValidator validator, DateTimeOffset now, int maxProspectIds = EnrollmentLimits.MaxProspectIds)
    {
        var key = validator.RequiredString("enrollment_key", EnrollmentLimits.KeyMinLength, EnrollmentLimits.KeyMaxLength);
        var eventTypes = validator.EventTypes(maxProspectIds == EnrollmentLimits.MaxProspectIds ? int.MaxValue : EnrollmentLimits.MaxEventTypesV2);
        var prospectIds = validator.ProspectIds(maxProspectIds);
        var expiresAt = ReadExpiry(validator, now);
        if (key is null || eventTypes is null || prospectIds is null) return null;
        return new EnrollmentRequest(key, TypesOf(eventTypes), prospectIds.Distinct(StringComparer.Ordinal).ToList(), expiresAt);
    }

    /// <summary><c>ttl_days</c> (our extension) as the expiry it sets, and <c>request_context</c>, accepted and ignored.</summary>
    internal static DateTimeOffset? ReadExpiry(BodyValidator validator, DateTimeOffset now)
    {
        var ttlDays = validator.OptionalInt("ttl_days", EnrollmentLimits.TtlMinDays, EnrollmentLimits.TtlMaxDays);
        validator.OptionalObjectOrNull("request_context");
        return ttlDays is { } days ? now.AddDays(days) : null;
    }

    internal static EventTypes TypesOf(IEnumerable<string> names)
    {
        var types = EventTypes.None;
        foreach (var name in names)
        {
            EventTypeNames.TryParse(name, out var type);
            types |= type;
        }
        return types;
    }

    internal static ApiError NotFound(string enrollmentId) => ApiError.NotFound($"No enrollment '{enrollmentId}'.");
}
