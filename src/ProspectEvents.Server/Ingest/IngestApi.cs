using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using ProspectEvents.Server.Admin;
using ProspectEvents.Server.Auth;
using ProspectEvents.Server.Hosting;
using ProspectEvents.Server.Http;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Ingest;

/// <summary>
/// <c>POST /v1/admin/observations</c> (admin keys): the ingest's HTTP door. Mapped in every process, apart from the rest of
/// the operator API, since it belongs to the <c>ingest</c> role: a process without it answers 503, one without <c>api</c>
/// but with <c>ingest</c> serves it.
/// </summary>
public static class IngestApi
{
    public static IEndpointRouteBuilder MapIngest(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/v1/admin").WithTags("Admin").RequireApiKey(KeyScope.Admin)
            .MapPost("/observations", IngestObservations)
            .Produces<ErrorBody>(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Ingest profile observations")
            .WithDescription("NDJSON or CSV body (optionally gzipped), streamed: any size. Answers the counts and the first rejected lines with their numbers; "
                + "422 with the same counts and an error when the input broke off (a truncated or corrupt gzip stream, a body cut short); "
                + "503 from a process that does not run the ingest role, or whose build is older than the database schema.");
        return routes;
    }

    private static async Task<Results<Ok<IngestResult>, UnprocessableEntity<IngestResult>, ApiError>> IngestObservations(
        HttpContext http, Roles roles, ProcessRegistry registry, IngestEngine engine, Store store, TimeProvider clock, IOptions<IngestOptions> options, ILogger<IngestRun> logger)
    {
        if (!roles.Ingest) return RoleRefusal.Missing(Roles.IngestName, roles);
        if (registry.OutdatedReason is { } outdated) return ApiError.Unavailable(outdated);
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

}
