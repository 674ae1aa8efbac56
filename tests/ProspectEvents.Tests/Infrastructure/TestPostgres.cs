using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace ProspectEvents.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL server for the test run. Plain <c>dotnet test</c> must work on a machine that only has the
/// PostgreSQL server binaries installed, so the first test that needs PostgreSQL starts a private server (temp data
/// directory, free port, durability off) and the process exit stops and deletes it. Every caller gets a database of
/// its own, so test classes can run in parallel without seeing each other's rows.
/// </summary>
public static class TestPostgres
{
    /// <summary>Npgsql connection string to an existing server (whose user may CREATE DATABASE) to use instead of starting one.</summary>
    public const string ExistingServerVariable = "PROSPECTEVENTS_TEST_POSTGRES";

    private const string FixHint =
        "To fix: make sure the PostgreSQL server binaries are installed (Debian/Ubuntu: `apt-get install postgresql`, " +
        "which provides /usr/lib/postgresql/<version>/bin/initdb and pg_ctl) and work, or set " + ExistingServerVariable +
        " to an Npgsql connection string for an existing server whose user may CREATE DATABASE, e.g. " +
        "`Host=localhost;Port=5432;Username=postgres;Password=secret`.";

    // One server per test process. Lazy gives thread-safe, exactly-once start-up for the many test classes that call
    // in parallel; a failed start stays cached, so every PostgreSQL test fails fast with the same explanation instead
    // of each one retrying initdb. Task.Run keeps the slow start-up off the thread that holds Lazy's lock.
    private static readonly Lazy<Task<string>> AdminConnectionString =
        new(() => Task.Run(GetAdminConnectionStringAsync));

    /// <summary>Creates a fresh, empty database on the shared throwaway server and returns an Npgsql connection string to it.</summary>
    public static async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        // The start-up is shared, so one caller's cancellation only stops that caller's wait, not the start-up.
        var admin = await AdminConnectionString.Value.WaitAsync(cancellationToken);
        var name = "t_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

        try
        {
            await using var connection = new NpgsqlConnection(admin);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (NpgsqlException exception) when (Environment.GetEnvironmentVariable(ExistingServerVariable) is { Length: > 0 })
        {
            // A server we started ourselves is known-good; an external one may be down or lack CREATEDB rights.
            throw new InvalidOperationException(
                $"Could not create a test database on the server given by {ExistingServerVariable} " +
                $"({DescribeWithoutPassword(admin)}): {exception.Message}. Check that the server is running and that " +
                $"its user may CREATE DATABASE, or unset {ExistingServerVariable} to let the tests start their own server.",
                exception);
        }

        // Each database gets its own connection pool; capping it keeps many parallel test classes under max_connections.
        return new NpgsqlConnectionStringBuilder(admin) { Database = name, MaxPoolSize = 20 }.ConnectionString;
    }

    private static Task<string> GetAdminConnectionStringAsync() =>
        Environment.GetEnvironmentVariable(ExistingServerVariable) is { Length: > 0 } existing
            ? Task.FromResult(existing)
            : StartServerAsync();

    private static async Task<string> StartServerAsync()
    {
        var binDirectory = await FindServerBinariesAsync() ?? throw new InvalidOperationException(
            "Tests need PostgreSQL, but no PostgreSQL server binaries (initdb and pg_ctl) were found in " +
            "/usr/lib/postgresql/*/bin, in `pg_config --bindir`, or on PATH. " + FixHint);

        var server = new Server(binDirectory, Directory.CreateTempSubdirectory("prospectevents-pg-").FullName, FindFreePort());

        // Clean-up is registered before anything can fail, so a half-initialised server or directory is removed too.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.StopAndDelete();
        await server.StartWatchdogAsync();

        if (IsRoot.Value)
        {
            // initdb/pg_ctl will run as the postgres user, which must own the data directory and the socket directory.
            Require(await RunAsync("chown", ["postgres:", server.Root]), "could not hand the temp directory to the postgres user");
        }

        Require(await server.RunAsync("initdb",
            ["-D", server.DataDirectory, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8",
             // C locale: the result must not depend on which locales the machine happens to have installed.
             "--locale=C"]),
            IsRoot.Value
                ? $"initdb could not create the data directory (as root it runs as the postgres user, which must be able to reach {server.Root}; check TMPDIR)"
                : "initdb could not create the data directory");

        // Durability is pointless for a throwaway server and costs seconds per test run; the socket goes into our temp
        // directory because the default (/var/run/postgresql) may not exist or be writable. pg_ctl passes these options
        // through a shell, hence the quotes around the path.
        var options = string.Join(' ',
            $"-p {server.Port} -k \"{server.Root}\" -c listen_addresses=127.0.0.1",
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300");
        var start = await server.RunAsync("pg_ctl",
            ["-D", server.DataDirectory, "-l", server.LogFile, "-w", "-o", options, "start"]);
        Require(start, "pg_ctl could not start the server", server.LogTail());

        return new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = server.Port,
            Username = "postgres",
            Database = "postgres",
        }.ConnectionString;
    }

    /// <summary>Directory holding initdb and pg_ctl: newest Debian-style install first, then pg_config, then PATH.</summary>
    private static async Task<string?> FindServerBinariesAsync()
    {
        var versioned = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(directory => decimal.TryParse(Path.GetFileName(directory), CultureInfo.InvariantCulture, out var version) ? version : -1)
                .Select(directory => Path.Combine(directory, "bin"))
            : [];

        // Server binaries are often not on PATH, but pg_config (when it is) knows their directory (Homebrew, source builds).
        var fromPgConfig = await RunAsync("pg_config", ["--bindir"]) is { ExitCode: 0 } pgConfig
            ? [pgConfig.StandardOutput.Trim()]
            : Array.Empty<string>();

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);

        return versioned.Concat(fromPgConfig).Concat(onPath)
            .FirstOrDefault(directory => File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl")));
    }

    /// <summary>Asks the OS for a free port. Another process could take it before postgres binds it, but that race is rare.</summary>
    private static int FindFreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    // initdb and pg_ctl refuse to run as root, and CI runs as root.
    private static readonly Lazy<bool> IsRoot = new(() =>
        Environment.UserName == "root" || RunAsync("id", ["-u"]).GetAwaiter().GetResult().StandardOutput.Trim() == "0");

    private static void Require(ProcessResult result, string whatFailed, string? logTail = null)
    {
        if (result.ExitCode == 0)
        {
            return;
        }

        var log = logTail is { Length: > 0 } ? $"\nServer log (last lines):\n{logTail}" : "";
        throw new InvalidOperationException(
            $"Tests need PostgreSQL, but the throwaway test server could not be started: {whatFailed}.\n" +
            $"{result.Describe()}{log}\n{FixHint}");
    }

    private static string DescribeWithoutPassword(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"Host={builder.Host};Port={builder.Port};Username={builder.Username};Database={builder.Database}";
    }

    /// <summary>Runs a program to completion. A program that cannot be started at all is reported as exit code -1.</summary>
    private static async Task<ProcessResult> RunAsync(string fileName, IReadOnlyList<string> arguments)
    {
        var command = string.Join(' ', new[] { fileName }.Concat(arguments).Select(part => part.Contains(' ', StringComparison.Ordinal) ? $"'{part}'" : part));
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(startInfo)!;
            process.StandardInput.Close();
            var standardOutput = process.StandardOutput.ReadToEndAsync();
            var standardError = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return new ProcessResult(command, process.ExitCode, await standardOutput, await standardError);
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            return new ProcessResult(command, -1, "", $"could not start `{fileName}`: {exception.Message}");
        }
    }

    private sealed record ProcessResult(string Command, int ExitCode, string StandardOutput, string StandardError)
    {
        public string Describe() =>
            $"Command: {Command}\nExit code: {ExitCode}\nstderr: {StandardError.Trim()}\nstdout: {StandardOutput.Trim()}";
    }

    /// <param name="BinDirectory">Where initdb and pg_ctl live.</param>
    /// <param name="Root">Temp directory holding the data directory, the log and the Unix socket.</param>
    /// <param name="Port">TCP port on 127.0.0.1.</param>
    private sealed record Server(string BinDirectory, string Root, int Port)
    {
        public string DataDirectory => Path.Combine(Root, "data");

        public string LogFile => Path.Combine(Root, "log");

        /// <summary>Runs a PostgreSQL program, as the postgres user when we are root.</summary>
        public Task<ProcessResult> RunAsync(string program, IReadOnlyList<string> arguments)
        {
            var command = AsServerUser(program, arguments);
            return TestPostgres.RunAsync(command[0], command[1..]);
        }

        /// <summary>The command line for a PostgreSQL program: through runuser when root, since initdb/pg_ctl refuse root.</summary>
        public string[] AsServerUser(string program, IReadOnlyList<string> arguments) =>
            IsRoot.Value
                ? ["runuser", "-u", "postgres", "--", Path.Combine(BinDirectory, program), .. arguments]
                : [Path.Combine(BinDirectory, program), .. arguments];

        private string[] StopCommand => AsServerUser("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "stop"]);

        public string LogTail()
        {
            try
            {
                return string.Join('\n', File.ReadLines(LogFile).TakeLast(30));
            }
            catch (IOException exception)
            {
                return $"(could not read {LogFile}: {exception.Message})";
            }
        }

        /// <summary>ProcessExit handler: best effort, never throws (an exception here would crash the test host).</summary>
        public void StopAndDelete()
        {
            try
            {
                if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
                {
                    // Bounded wait: a stuck pg_ctl must not hang the end of the test run; the watchdog retries anyway.
                    TestPostgres.RunAsync(StopCommand[0], StopCommand[1..]).Wait(TimeSpan.FromSeconds(20));
                }

                Directory.Delete(Root, recursive: true);
            }
#pragma warning disable CA1031 // Clean-up at exit is best effort; there is nobody left to report a failure to.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        /// <summary>
        /// pg_ctl puts the postmaster in a session of its own, so it would outlive a test host that is killed without
        /// running ProcessExit (Ctrl+C, VSTest's hang timeout). A detached shell loop waits for our process to go away and
        /// then does the same clean-up. It is backgrounded inside sh so that it is no child of ours (killing our process
        /// tree must not kill it), ignores the terminal's signals, and holds none of our stdout/stderr pipes (which would
        /// make `dotnet test` wait for it).
        /// </summary>
        public async Task StartWatchdogAsync()
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
            var result = await TestPostgres.RunAsync("sh",
                ["-c", Script, "prospectevents-pg-watchdog", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), Root, .. StopCommand]);
            Require(result, "could not start the clean-up watchdog");
        }
    }
}
