using System.Globalization;
using Npgsql;

namespace ProspectEvents.Testing;

/// <summary>
/// A private PostgreSQL server started from the server binaries: temp directory, free port on 127.0.0.1, the
/// settings the caller asks for (the tests turn durability off, the benchmarks keep the defaults a deployment gets).
/// As root, initdb and pg_ctl run as the <c>postgres</c> user, since they refuse root. A detached watchdog stops the
/// server and deletes the directory if this process dies without disposing it.
/// </summary>
/// <param name="binDirectory">Where initdb, pg_ctl and psql live.</param>
/// <param name="root">Temp directory holding the data directory, the log and the Unix socket.</param>
/// <param name="asPostgresUser">True when we are root and run the server's programs as the postgres user.</param>
public sealed class ThrowawayPostgres(string binDirectory, string root, int port, bool asPostgresUser) : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    public string BinDirectory => binDirectory;

    public string Root => root;

    public int Port => port;

    public string DataDirectory => Path.Combine(Root, "data");

    public string LogFile => Path.Combine(Root, "server.log");

    /// <summary>The version directory of a Debian-style install (<c>/usr/lib/postgresql/17/bin</c> → 17).</summary>
    public string Version => Path.GetFileName(Path.GetDirectoryName(BinDirectory)) ?? "?";

    /// <summary>Directory holding initdb and pg_ctl: newest Debian-style install first, then <c>pg_config --bindir</c>, then PATH.</summary>
    public static async Task<string?> FindBinariesAsync()
    {
        var versioned = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => decimal.TryParse(Path.GetFileName(d), CultureInfo.InvariantCulture, out var v) ? v : -1)
                .Select(d => Path.Combine(d, "bin"))
            : [];

        // Server binaries are often not on PATH, but pg_config (when it is) knows their directory (Homebrew, source builds).
        var fromPgConfig = await ProcessRunner.RunAsync("pg_config", ["--bindir"], Bound) is { Ok: true } pgConfig
            ? [pgConfig.Stdout.Trim()]
            : Array.Empty<string>();

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return versioned.Concat(fromPgConfig).Concat(onPath)
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }

    /// <summary>Starts a server; throws <see cref="InvalidOperationException"/> saying which step failed, having removed what it made.</summary>
    /// <param name="settings"><c>name=value</c> server settings passed as <c>-c</c> options.</param>
    /// <param name="launchPrefix">A command the postmaster is started through, e.g. <c>taskset -c 1</c> to pin it to a core.</param>
    public static async Task<ThrowawayPostgres> StartAsync(
        string binDirectory, IReadOnlyList<string>? settings = null, IReadOnlyList<string>? launchPrefix = null)
    {
        bool root = Environment.UserName == "root" || (await ProcessRunner.RunAsync("id", ["-u"], Bound)).Stdout.Trim() == "0";
        var pg = new ThrowawayPostgres(binDirectory, Directory.CreateTempSubdirectory("prospectevents-pg-").FullName, Loopback.FreePort(), root);
        try
        {
            await pg.StartWatchdogAsync();
            if (root)
            {
                // The postgres user must own the data directory and the socket directory.
                Require(await ProcessRunner.RunAsync("chown", ["postgres:", pg.Root], Bound), "could not hand the temp directory to the postgres user");
            }

            // --no-sync only skips initdb's own flush of the fresh cluster; C locale: the result must not depend on
            // which locales the machine happens to have.
            Require(
                await pg.RunAsServerUserAsync([], "initdb", ["-D", pg.DataDirectory, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"]),
                root
                    ? $"initdb could not create the data directory (as root it runs as the postgres user, which must be able to reach {pg.Root}; check TMPDIR)"
                    : "initdb could not create the data directory");

            // The socket goes into our temp directory because the default (/var/run/postgresql) may not exist or be
            // writable; pg_ctl passes these options through a shell, hence the quotes around the path.
            string options = $"-p {pg.Port} -k \"{pg.Root}\" -c listen_addresses=127.0.0.1" + string.Concat((settings ?? []).Select(s => $" -c {s}"));
            var start = await pg.RunAsServerUserAsync(launchPrefix ?? [], "pg_ctl", ["-D", pg.DataDirectory, "-l", pg.LogFile, "-w", "-t", "60", "-o", options, "start"]);
            Require(start, "pg_ctl could not start the server", pg.LogTail());
            return pg;
        }
        catch
        {
            await pg.DisposeAsync();
            throw;
        }
    }

    public string ConnectionString(string database = "postgres") =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "postgres", Database = database }.ConnectionString;

    /// <summary>Creates an empty database on this server.</summary>
    public Task CreateDatabaseAsync(string name, CancellationToken cancellationToken = default) =>
        CreateDatabaseAsync(ConnectionString(), name, cancellationToken);

    /// <summary>Creates an empty database on the server <paramref name="serverConnectionString"/> names (this one or another).</summary>
    public static async Task CreateDatabaseAsync(string serverConnectionString, string name, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(serverConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Runs SQL with psql (unaligned, tab-separated, no headers) and returns its output.</summary>
    public Task<ProcessResult> PsqlAsync(string database, string sql, TimeSpan? bound = null) =>
        ProcessRunner.RunAsync(
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

    /// <summary>A clean stop (immediate if that fails), then the directory goes.</summary>
    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            var stop = await RunAsServerUserAsync([], "pg_ctl", ["-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "stop"]);
            if (!stop.Ok)
            {
                await RunAsServerUserAsync([], "pg_ctl", StopImmediately);
            }
        }

        DeleteRoot();
    }

    /// <summary>For a ProcessExit handler: an immediate stop with a bounded wait, never throws (there is nobody left to tell).</summary>
    public void StopAndDelete()
    {
        try
        {
            if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                // Bounded: a stuck pg_ctl must not hang the end of the process; the watchdog retries anyway.
                RunAsServerUserAsync([], "pg_ctl", StopImmediately).Wait(TimeSpan.FromSeconds(20));
            }

            DeleteRoot();
        }
#pragma warning disable CA1031 // Clean-up at exit is best effort.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private string[] StopImmediately => ["-D", DataDirectory, "-m", "immediate", "stop"];

    private void DeleteRoot()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort; the watchdog removes it when this process ends.
        }
    }

    private string[] AsServerUser(string program, IReadOnlyList<string> arguments) =>
        asPostgresUser
            ? ["runuser", "-u", "postgres", "--", Path.Combine(BinDirectory, program), .. arguments]
            : [Path.Combine(BinDirectory, program), .. arguments];

    private Task<ProcessResult> RunAsServerUserAsync(IReadOnlyList<string> prefix, string program, IReadOnlyList<string> arguments)
    {
        string[] command = [.. prefix, .. AsServerUser(program, arguments)];
        return ProcessRunner.RunAsync(command[0], command[1..], Bound);
    }

    /// <summary>
    /// pg_ctl puts the postmaster in a session of its own, so it would outlive a process that is killed (Ctrl+C,
    /// VSTest's hang timeout). A detached shell loop waits for this process to go away, then stops the server and
    /// removes the directory. It is backgrounded inside sh so that it is no child of ours (killing our process tree
    /// must not kill it), ignores the terminal's signals, and holds none of our pipes (`dotnet test` would wait for it).
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
        Require(
            await ProcessRunner.RunAsync("sh", ["-c", Script, "prospectevents-pg-watchdog", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), Root, .. AsServerUser("pg_ctl", StopImmediately)], Bound),
            "could not start the clean-up watchdog");
    }

    private static void Require(ProcessResult result, string whatFailed, string? logTail = null)
    {
        if (!result.Ok)
        {
            var log = logTail is { Length: > 0 } ? $"\nServer log (last lines):\n{logTail}" : "";
            throw new InvalidOperationException($"{result.Describe(whatFailed)}{log}");
        }
    }
}
