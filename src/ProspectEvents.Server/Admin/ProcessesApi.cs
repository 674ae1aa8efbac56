using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using ProspectEvents.Server.Hosting;
using ProspectEvents.Server.Http;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Admin;

/// <summary>The live <c>serve</c> processes on this database, as <see cref="ProcessRegistry"/> keeps them.</summary>
public sealed record ProcessList(
    ResponseContext ResponseContext,
    [property: Description("The highest migration applied to the database.")] int SchemaVersion,
    [property: Description("The process that answered this request.")] string ThisProcessId,
    [property: Description("Processes whose last heartbeat is younger than three of their intervals, oldest first.")] IReadOnlyList<ProcessView> Processes);

public sealed record ProcessView(
    string ProcessId, string Host, int Pid, IReadOnlyList<string> Roles, string Build,
    [property: Description("The highest migration the process's build knows.")] int SchemaVersion,
    int FingerprintVersion,
    [property: Description("running, or outdated: its build is older than the schema, and it stopped its ingest and scheduled jobs.")] string State,
    DateTimeOffset StartedAt, DateTimeOffset HeartbeatAt, double HeartbeatAgeSeconds);

public static class ProcessesApi
{
    public static RouteGroupBuilder MapProcesses(this RouteGroupBuilder admin)
    {
        admin.MapGet("/processes", List).WithSummary("The live serve processes on this database")
            .WithDescription("Each process's roles, build, the highest migration it knows, state and heartbeat age; processes that missed three heartbeats are left out.");
        return admin;
    }

    private static async Task<Ok<ProcessList>> List(HttpContext http, Store store, ProcessRegistry registry, TimeProvider clock, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var processes = await store.LiveProcessesAsync(now, cancellationToken);
        return TypedResults.Ok(new ProcessList(ResponseContext.For(http), await store.SchemaVersionAsync(cancellationToken), registry.Self.ProcessId,
            [.. processes.Select(p => new ProcessView(p.ProcessId, p.Host, p.Pid, p.Roles, p.Build, p.SchemaVersion, p.FingerprintVersion, p.State,
                p.StartedAt, p.HeartbeatAt, Math.Round(Math.Max(0, (now - p.HeartbeatAt).TotalSeconds), 3)))]));
    }
}
