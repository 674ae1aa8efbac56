using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using ProspectEvents.Server.Admin;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Hosting;

/// <summary>
/// <c>/readyz</c>: whether to send this process work. <c>roles</c> are what it runs; <c>reason</c> says why a process
/// whose build is older than the schema stopped its ingest and scheduled jobs (then 503 if it ran any).
/// </summary>
public sealed record ReadyStatus(
    string Status, string ProcessId, IReadOnlyList<string> Roles,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null);

/// <summary><c>/healthz</c> (the process answers) and <c>/readyz</c> (its database does too, and its build is not older than the schema).</summary>
public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", () => TypedResults.Ok(new HealthStatus("ok"))).WithTags("Health");
        routes.MapGet("/readyz", Ready).WithTags("Health");
        return routes;
    }

    private static async Task<Results<Ok<ReadyStatus>, JsonHttpResult<ReadyStatus>>> Ready(Store store, Roles roles, ProcessRegistry registry, CancellationToken cancellationToken)
    {
        var id = registry.Self.ProcessId;
        try
        {
            if (!await store.PingAsync(cancellationToken)) return Unavailable(new ReadyStatus("database unreachable", id, roles.Names));
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            // Not ready is an answer, not an error.
            return Unavailable(new ReadyStatus("database unreachable", id, roles.Names));
        }
        if (registry.OutdatedReason is not { } reason) return TypedResults.Ok(new ReadyStatus("ready", id, roles.Names));
        // An older api or dispatcher process keeps serving through a rolling upgrade; one that stood work down is not ready.
        return roles.Ingest || roles.Scheduler
            ? Unavailable(new ReadyStatus("outdated", id, roles.Names, reason))
            : TypedResults.Ok(new ReadyStatus("ready", id, roles.Names, reason));
    }

    private static JsonHttpResult<ReadyStatus> Unavailable(ReadyStatus status) => TypedResults.Json(status, statusCode: StatusCodes.Status503ServiceUnavailable);
}
