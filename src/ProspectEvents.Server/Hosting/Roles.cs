namespace ProspectEvents.Server.Hosting;

/// <summary>
/// The <c>Roles</c> setting: which parts a process runs (<c>api,ingest,dispatcher,scheduler</c>; all by default),
/// so a deployment can, say, run the scheduler in one process only. <c>scheduler</c> (anniversary sweep, fan-out
/// indexer) and <c>dispatcher</c> (webhook delivery) are switched today.
/// </summary>
public static class Roles
{
    public const string Scheduler = "scheduler";
    public const string Dispatcher = "dispatcher";

    public static bool Has(IConfiguration configuration, string role)
    {
        var roles = configuration["Roles"];
        return string.IsNullOrWhiteSpace(roles)
            || roles.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Contains(role, StringComparer.OrdinalIgnoreCase);
    }
}
