using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using ProspectEvents.Server.Auth;
using ProspectEvents.Server.Events;
using ProspectEvents.Server.Http;
using ProspectEvents.Server.Ingest;
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
        group.MapPost("/observations", IngestObservations)
            .WithSummary("Ingest profile observations")
            .WithDescription("NDJSON or CSV body (optionally gzipped), streamed: any size. Answers the counts and the first rejected lines with their numbers; "
                + "422 with the same counts and an error when the input broke off (a truncated or corrupt gzip stream, a body cut short).");
        group.MapGet("/stats", Stats).WithSummary("Counts, and the latest events with their enrollment matches")
            .WithDescription("Counts of partners, enrollments, monitored prospects, events and event-enrollment matches; the fan-out indexer's backlog; the latest events, each with the number of active enrollments it matched when it was detected.");
        group.MapOperatorReads();
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

    private static async Task<Results<Ok<IngestResult>, UnprocessableEntity<IngestResult>>> IngestObservations(
        HttpContext http, IngestEngine engine, Store store, TimeProvider clock, IOptions<IngestOptions> options, ILogger<IngestRun> logger)
    {
        // Streamed, so not held to the 1 MiB limit of the JSON endpoints.
        if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;
        // Not cancelled with the request: a client that goes away cuts the body, which the ingest takes for a broken
        // input (it stops, and the batches it handed on commit) instead of cancelling them midway.
        var startedAt = clock.GetUtcNow();
        var summary = await new IngestRun(engine, clock) { MaxLineBytes = options.Value.MaxLineBytes }.RunAsync(http.Request.Body, CancellationToken.None);
        await IngestRunLog.RecordAsync(store, IngestRunLog.Http, startedAt, summary, clock, e => Log.IngestRunNotRecorded(logger, e));
        var listed = summary.RejectedLines.Take(IngestResult.MaxListed).Select(r => new RejectedLineView(r.Line, r.Error)).ToList();
        var context = ResponseContext.For(http);
        var result = new IngestResult(summary.Error is null ? context : context with { RequestStatus = "failure" },
            summary.Observations, summary.Rejected, summary.Stale, summary.Events, summary.Seconds, listed, summary.Rejected > listed.Count, summary.Error, summary.ErrorLine,
            summary.Error is null ? null : [new ValidationError(["body"], summary.Error, "input_broken")]);
        if (summary.Error is null) return TypedResults.Ok(result);
        // A body that broke off is never answered as a whole one. The client may be gone (a cut connection): the log says it too.
        Log.IngestInputBroke(logger, summary.Error, summary.Observations, http.CorrelationId());
        return TypedResults.UnprocessableEntity(result);
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
