using Microsoft.AspNetCore.Http.HttpResults;
using ProspectEvents.Server.Admin;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Hosting;

/// <summary><c>/healthz</c> (the process answers) and <c>/readyz</c> (and its database does too).</summary>
public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", () => TypedResults.Ok(new HealthStatus("ok"))).WithTags("Health");
        routes.MapGet("/readyz", Ready).WithTags("Health");
        return routes;
    }

    private static async Task<Results<Ok<HealthStatus>, JsonHttpResult<HealthStatus>>> Ready(Store store, CancellationToken cancellationToken)
    {
        try
        {
            if (await store.PingAsync(cancellationToken)) return TypedResults.Ok(new HealthStatus("ready"));
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            // Not ready is an answer, not an error: fall through to 503.
        }
        return TypedResults.Json(new HealthStatus("database unreachable"), statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
