namespace ProspectEvents.Server.Hosting;

/// <summary>
/// The <c>Roles</c> setting: which parts a <c>serve</c> process runs, a comma list of <c>api</c> (the partner and
/// operator API, <c>/docs</c>, <c>/dashboard</c>), <c>ingest</c> (<c>POST /v1/admin/observations</c> and the ingest's
/// background work), <c>dispatcher</c> (webhook delivery) and <c>scheduler</c> (anniversary sweep, fan-out indexer, event retention);
/// all by default. Read once when the app is built; a name not in the list stops the process.
/// </summary>
public sealed record Roles(bool Api, bool Ingest, bool Dispatcher, bool Scheduler)
{
    public const string Key = "Roles";
    public const string ApiName = "api", IngestName = "ingest", DispatcherName = "dispatcher", SchedulerName = "scheduler";

    /// <summary>Every role, in the order they are listed and reported.</summary>
    public static readonly IReadOnlyList<string> Valid = [ApiName, IngestName, DispatcherName, SchedulerName];

    public static readonly Roles All = new(true, true, true, true);

    /// <summary>The roles this process runs, as <c>/readyz</c> and the process registry list them.</summary>
    public IReadOnlyList<string> Names => [.. Valid.Where(Has)];

    public bool Has(string role) => role switch
    {
        ApiName => Api,
        IngestName => Ingest,
        DispatcherName => Dispatcher,
        SchedulerName => Scheduler,
        _ => false,
    };

    /// <summary>The roles <paramref name="configuration"/> names; <see cref="InvalidSettingsException"/> for a name not in <see cref="Valid"/>.</summary>
    public static Roles From(IConfiguration configuration) => Parse(configuration[Key]);

    public static Roles Parse(string? setting)
    {
        if (string.IsNullOrWhiteSpace(setting)) return All;
        var names = setting.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(n => n.ToLowerInvariant()).ToHashSet();
        if (names.Count == 0) return All;
        var unknown = names.Where(n => !Valid.Contains(n)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            throw new InvalidSettingsException(
                $"Roles names {string.Join(", ", unknown.Select(n => $"'{n}'"))}, which is not a role; the roles are {string.Join(", ", Valid)} (a comma list; all when unset).");
        return new Roles(names.Contains(ApiName), names.Contains(IngestName), names.Contains(DispatcherName), names.Contains(SchedulerName));
    }
}
