using System.Globalization;

namespace ProspectEvents.Bench;

/// <summary>
/// A private PostgreSQL server for one benchmark run: temp data directory, free port on 127.0.0.1, DEFAULT
/// durability settings (fsync, synchronous_commit and full_page_writes stay on: the benchmark measures what a
/// deployment gets), optionally pinned to a core with taskset. As root, initdb/pg_ctl run as the `postgres` user
/// (they refuse root) in a directory handed to that user. A detached watchdog stops the server and deletes the
/// directory if this process dies without disposing it. (Adapted from tests/…/TestPostgres.cs, which turns
/// durability off; this one must not.)
/// </summary>
internal sealed class ThrowawayPostgres : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    private ThrowawayPostgres(string binDirectory, string root, int port, bool asPostgresUser)
    {
        BinDirectory = binDirectory;
        Root = root;
        Port = port;
        AsPostgresUser = asPostgresUser;
    }

    public string BinDirectory { get; }

    public string Root { get; }

    public int Port { get; }

    private bool AsPostgresUser { get; }

    public string DataDirectory => Path.Combine(Root, "data");

    public string LogFile => Path.Combine(Root, "server.log");

    public string Version => Path.GetFileName(Path.GetDirectoryName(BinDirectory)) ?? "?";

    /// <summary>Newest /usr/lib/postgresql/*/bin holding initdb and pg_ctl, else PATH.</summary>
    public static string? FindBinaries()
    {
        var versioned = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => decimal.TryParse(Path.GetFileName(d), CultureInfo.InvariantCulture, out var v) ? v : -1)
                .Select(d => Path.Combine(d, "bin"))
            : [];
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return versioned.Concat(onPath).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }

    /// <summary>
    /// A benchmark's PostgreSQL phase begins here: prints its header, starts the server on core 1 and prints where it
    /// runs and the settings that shape the numbers. Null, with the reason on stderr, when it cannot start.
    /// </summary>
    public static async Task<(ThrowawayPostgres? Server, ExecResult Settings)> StartAnnouncedAsync(
        string binDirectory, string? taskset, string database, IReadOnlyList<string>? settings = null)
    {
        Console.WriteLine($"== PostgreSQL: throwaway server from {binDirectory} ==");
        ThrowawayPostgres pg;
        try
        {
            pg = await StartAsync(binDirectory, taskset, "1", database, settings);
        }
        catch (InvalidOperationException e)
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

    /// <summary>Starts the server (pinned to <paramref name="cpuList"/> when <paramref name="taskset"/> is given) and creates <paramref name="database"/>.</summary>
    /// <param name="settings">Extra <c>-c name=value</c> server settings (for investigations, e.g. pg_stat_statements); none by default.</param>
    public static async Task<ThrowawayPostgres> StartAsync(string binDirectory, string? taskset, string cpuList, string database, IReadOnlyList<string>? settings = null)
    {
        bool root = (await BenchEnv.RunAsync("id", ["-u"], TimeSpan.FromSeconds(10))).Stdout.Trim() == "0";
        var pg = new ThrowawayPostgres(binDirectory, Directory.CreateTempSubdirectory("prospectevents-bench-pg-").FullName, BenchEnv.FreePort(), root);
        try
        {
            await pg.StartWatchdogAsync();
            if (root)
            {
                Require(await BenchEnv.RunAsync("chown", ["postgres:", pg.Root], Bound), "chown of the temp directory to postgres");
            }

            // --no-sync only skips initdb's own final flush of the fresh cluster; the server below runs with default durability.
            Require(await pg.RunPgAsync(null, "initdb", ["-D", pg.DataDirectory, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"]), "initdb");
            string options = $"-p {pg.Port} -k \"{pg.Root}\" -c listen_addresses=127.0.0.1" + string.Concat((settings ?? []).Select(s => $" -c {s}"));
            var start = await pg.RunPgAsync(taskset is null ? null : [taskset, "-c", cpuList], "pg_ctl", ["-D", pg.DataDirectory, "-l", pg.LogFile, "-w", "-t", "60", "-o", options, "start"]);
            if (!start.Ok)
            {
                throw new InvalidOperationException(start.Describe("pg_ctl start") + Environment.NewLine + pg.LogTail());
            }

            Require(await BenchEnv.RunAsync(Path.Combine(binDirectory, "createdb"), ["-h", "127.0.0.1", "-p", pg.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", database], Bound), "createdb");
            return pg;
        }
        catch
        {
            await pg.DisposeAsync();
            throw;
        }
    }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port.ToString(CultureInfo.InvariantCulture)};Username=postgres;Database={database}";

    /// <summary>Runs SQL with psql (unaligned, tab-separated, no headers) and returns its output.</summary>
    public Task<ExecResult> PsqlAsync(string database, string sql, TimeSpan? bound = null) =>
        BenchEnv.RunAsync(
            Path.Combine(BinDirectory, "psql"),
            ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-d", database, "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            bound ?? Bound);

    /// <summary>The postmaster's pid, from postmaster.pid.</summary>
    public int? PostmasterPid()
    {
        try
        {
            string? first = File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).FirstOrDefault();
            return int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// CPU seconds (user, sys) used so far by the whole server: the postmaster, its live children (backends,
    /// checkpointer, WAL writer, ...) and the children it has already reaped (cutime/cstime).
    /// </summary>
    public (double User, double Sys) CpuSeconds()
    {
        int? postmaster = PostmasterPid();
        if (postmaster is null)
        {
            return (double.NaN, double.NaN);
        }

        double user = 0, sys = 0;
        var pm = ReadStat(postmaster.Value);
        if (pm is null)
        {
            return (double.NaN, double.NaN);
        }

        user += pm.Value.UTime + pm.Value.CUTime;
        sys += pm.Value.STime + pm.Value.CSTime;
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid == postmaster)
            {
                continue;
            }

            var s = ReadStat(pid);
            if (s is { } child && child.PPid == postmaster)
            {
                user += child.UTime;
                sys += child.STime;
            }
        }

        return (user / 100.0, sys / 100.0);
    }

    private static (int PPid, long UTime, long STime, long CUTime, long CSTime)? ReadStat(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            string[] f = stat[(close + 2)..].Split(' ');
            // After ')': f[0] = state (field 3); ppid = field 4 = f[1]; utime..cstime = fields 14..17 = f[11..14].
            return (int.Parse(f[1], CultureInfo.InvariantCulture),
                long.Parse(f[11], CultureInfo.InvariantCulture), long.Parse(f[12], CultureInfo.InvariantCulture),
                long.Parse(f[13], CultureInfo.InvariantCulture), long.Parse(f[14], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    public string LogTail()
    {
        try
        {
            return string.Join('\n', File.ReadLines(LogFile).TakeLast(30));
        }
        catch (IOException e)
        {
            return $"(could not read {LogFile}: {e.Message})";
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            // Fast shutdown: a clean stop without waiting for clients (there are none left).
            var stop = await RunPgAsync(null, "pg_ctl", ["-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "stop"]);
            if (!stop.Ok)
            {
                Console.Error.WriteLine($"warning: {stop.Describe("pg_ctl stop")}; trying immediate");
                await RunPgAsync(null, "pg_ctl", ["-D", DataDirectory, "-m", "immediate", "stop"]);
            }
        }

        BenchEnv.TryDelete(Root);
    }

    private string[] AsServerUser(string program, IReadOnlyList<string> arguments) =>
        AsPostgresUser
            ? ["runuser", "-u", "postgres", "--", Path.Combine(BinDirectory, program), .. arguments]
            : [Path.Combine(BinDirectory, program), .. arguments];

    private Task<ExecResult> RunPgAsync(string[]? prefix, string program, IReadOnlyList<string> arguments)
    {
        string[] command = [.. prefix ?? [], .. AsServerUser(program, arguments)];
        return BenchEnv.RunAsync(command[0], command[1..], Bound);
    }

    /// <summary>
    /// pg_ctl puts the postmaster in a session of its own, so it would outlive a harness that is killed. A detached
    /// shell loop waits for this process to go away and then stops the server and removes the directory.
    /// </summary>
    private async Task StartWatchdogAsync()
    {
        const string Script = """
            (
              trap '' HUP INT TERM
              pid=$1; root=$2; shift 2
              while kill -0 "$pid" 2>/dev/null; do sleep 1; done
              if [ -e "$root/data/postmaster.pid" ]; then "$@"; fi
              rm -rf "$root"
            ) </dev/null >/dev/null 2>&1 &
            """;
        string[] stop = AsServerUser("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "stop"]);
        Require(
            await BenchEnv.RunAsync("sh", ["-c", Script, "prospectevents-bench-pg-watchdog", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), Root, .. stop], Bound),
            "start of the clean-up watchdog");
    }

    private static void Require(ExecResult r, string what)
    {
        if (!r.Ok)
        {
            throw new InvalidOperationException(r.Describe(what));
        }
    }
}
