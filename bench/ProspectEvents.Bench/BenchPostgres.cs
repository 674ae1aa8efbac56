using Npgsql;

namespace ProspectEvents.Bench;

/// <summary>
/// The benchmarks' PostgreSQL: a <see cref="ThrowawayPostgres"/> with the default durability settings (fsync,
/// synchronous_commit and full_page_writes stay on: the benchmark measures what a deployment gets), optionally pinned
/// to a core with taskset, with the benchmark's database created.
/// </summary>
internal static class BenchPostgres
{
    /// <summary>
    /// The server binaries for a run that wants PostgreSQL rows. None found: an error (null, after printing it) when
    /// the backend was asked for by name, else a warning and "" (the PostgreSQL rows are skipped).
    /// </summary>
    public static async Task<string?> FindBinariesAsync(bool askedByName, List<string> warnings)
    {
        if (await ThrowawayPostgres.FindBinariesAsync() is { } bin)
        {
            return bin;
        }

        if (askedByName)
        {
            Cli.Fail("--backend postgres needs the PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on PATH");
            return null;
        }

        warnings.Add("PostgreSQL server binaries not found: PostgreSQL rows skipped (install postgresql, or pass --backend sqlite)");
        return "";
    }

    /// <summary>Starts the server (pinned to <paramref name="cpuList"/> when <paramref name="taskset"/> is given) and creates <paramref name="database"/>.</summary>
    /// <param name="settings">Extra <c>name=value</c> server settings (for investigations, e.g. pg_stat_statements); none by default.</param>
    public static async Task<ThrowawayPostgres> StartAsync(string binDirectory, string? taskset, string cpuList, string database, IReadOnlyList<string>? settings = null)
    {
        var pg = await ThrowawayPostgres.StartAsync(binDirectory, settings, taskset is null ? null : [taskset, "-c", cpuList]);
        try
        {
            await pg.CreateDatabaseAsync(database);
            return pg;
        }
        catch
        {
            await pg.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A benchmark's PostgreSQL phase begins here: prints its header, starts the server on core 1 and prints where it
    /// runs and the settings that shape the numbers. Null, with the reason on stderr, when it cannot start.
    /// </summary>
    public static async Task<(ThrowawayPostgres? Server, ProcessResult Settings)> StartAnnouncedAsync(
        string binDirectory, string? taskset, string database, IReadOnlyList<string>? settings = null)
    {
        Console.WriteLine($"== PostgreSQL: throwaway server from {binDirectory} ==");
        ThrowawayPostgres pg;
        try
        {
            pg = await StartAsync(binDirectory, taskset, "1", database, settings);
        }
        catch (Exception e) when (e is InvalidOperationException or NpgsqlException)
        {
            Console.Error.WriteLine($"error: could not start PostgreSQL: {e.Message}");
            return (null, default!);
        }

        var shown = await pg.PsqlAsync(database,
            "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings WHERE name IN " +
            "('server_version','fsync','synchronous_commit','full_page_writes','wal_level','shared_buffers','max_wal_size','checkpoint_timeout','wal_buffers','work_mem','effective_io_concurrency')");
        Console.WriteLine($"started : port {pg.Port}, data {pg.DataDirectory}, postmaster pid {pg.PostmasterPid()}, affinity {(pg.PostmasterPid() is { } pm ? ProcStats.AffinityList(pm) : "n/a")}");
        Console.WriteLine($"settings: {(shown.Ok ? shown.Stdout.Trim() : shown.Describe("psql settings"))}");
        return (pg, shown);
    }

    /// <summary>CPU seconds (user, sys) the whole server has used so far: postmaster, backends and the children it has reaped.</summary>
    public static (double User, double Sys) CpuSeconds(this ThrowawayPostgres pg) =>
        pg.PostmasterPid() is { } postmaster ? ProcStats.ProcessTreeCpuSeconds(postmaster) : (double.NaN, double.NaN);
}
