using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using ProspectEvents.Server.Auth;
using ProspectEvents.Server.Events;
using ProspectEvents.Server.Http;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Admin;

/// <summary><c>/v1/admin</c>: the operator API (admin keys only).</summary>
public static class AdminApi
{
    public static RouteGroupBuilder MapAdmin(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/admin").WithTags("Admin").RequireApiKey(KeyScope.Admin);
        group.MapPost("/partners", CreatePartner).WithJsonBody<CreatePartnerBody>()
            .WithSummary("Create a partner").WithDescription("Creates a partner and its first API key (scope partner unless given); the key is shown only in this response.");
        group.MapPost("/partners/{partner_id}/keys", CreateKey).WithJsonBody<CreateKeyBody>()
            .WithSummary("Issue an API key for a partner");
        group.MapGet("/stats", Stats).WithSummary("Counts, and the latest events with their enrollment matches")
            .WithDescription("Counts of partners, enrollments, monitored prospects, events and event-enrollment matches; the fan-out indexer's backlog; the latest events, each with the number of active enrollments it matched when it was detected.");
        group.MapOperatorReads();
        group.MapProcesses();
        return group;
    }

    private static async Task<Results<Ok<PartnerCreated>, ApiError>> CreatePartner(HttpContext http, Store store, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (document, error) = await RequestBody.ReadAsync(http, cancellationToken);
        if (error is not null) return error;
        using (document)
        {
            var validator = new BodyValidator(document!);
            var name = validator.RequiredString("name", 1, 200);
            var scope = ReadScope(validator);
            if (validator.Finish() is { } invalid) return invalid;

            var key = await store.CreatePartnerAsync(name!, scope, clock.GetUtcNow(), cancellationToken);
            return TypedResults.Ok(new PartnerCreated(ResponseContext.For(http), key.PartnerId, key.KeyId, key.Secret, ApiKey.ScopeName(key.Scope)));
        }
    }

    private static async Task<Results<Ok<KeyCreated>, ApiError>> CreateKey(
        HttpContext http, [Microsoft.AspNetCore.Mvc.FromRoute(Name = "partner_id")] string partnerId, Store store, TimeProvider clock, CancellationToken cancellationToken)
    {
        var scope = KeyScope.Partner;
        if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            var (document, error) = await RequestBody.ReadAsync(http, cancellationToken);
            if (error is not null) return error;
            using (document)
            {
                var validator = new BodyValidator(document!);
                scope = ReadScope(validator);
                if (validator.Finish() is { } invalid) return invalid;
            }
        }

        var key = await store.CreateKeyAsync(partnerId, scope, clock.GetUtcNow(), cancellationToken);
        return key is null
            ? ApiError.NotFound($"No partner '{partnerId}'.")
            : TypedResults.Ok(new KeyCreated(ResponseContext.For(http), key.PartnerId, key.KeyId, key.Secret, ApiKey.ScopeName(key.Scope)));
    }

    private static async Task<Ok<AdminStats>> Stats(HttpContext http, Store store, TimeProvider clock, IOptions<EventOptions> events, CancellationToken cancellationToken)
    {
        var counts = await store.CountsAsync(clock.GetUtcNow(), cancellationToken);
        var recent = await store.RecentEventsAsync(AdminStats.MaxRecentEvents, cancellationToken);
        var now = clock.GetUtcNow();
        var backlog = await store.DeliveryBacklogAsync(now, cancellationToken);
        var pass = await store.LatestRetentionPassAsync(cancellationToken);
        return TypedResults.Ok(new AdminStats(ResponseContext.For(http), store.Provider, counts.Partners, counts.Enrollments, counts.MonitoredProspects,
            counts.Events, counts.EventMatches, counts.UnindexedEnrollments,
            recent.Select(e => new RecentEventView(e.EventId, e.EventName, e.ProspectId, e.DetectedAt, e.Matches)).ToList(),
            backlog.Sum(b => b.Pending), backlog.Sum(b => b.Failed),
            backlog.Select(b => new DeliveryBacklogView(b.PartnerId, b.WebhookEnabled switch { true => "enabled", false => "disabled", null => "none" },
                b.Pending, b.Failed, b.OldestDueAt is { } due ? Math.Round((now - due).TotalSeconds, 3) : null, b.WebhookId)).ToList(),
            new RetentionView(events.Value.RetentionDays, pass is null ? null
                : new RetentionPassView(pass.StartedAt, pass.FinishedAt, pass.Cutoff, pass.Events, pass.Deliveries, pass.Expired))));
    }

    private static KeyScope ReadScope(BodyValidator validator)
    {
        var name = validator.OptionalEnum("scope", ["partner", "admin"]);
        return name is not null && ApiKey.TryParseScope(name, out var scope) ? scope : KeyScope.Partner;
    }
}
