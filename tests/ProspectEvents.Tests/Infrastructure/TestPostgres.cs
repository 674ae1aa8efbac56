using System.Security.Cryptography;
using Npgsql;
using ProspectEvents.Testing;

namespace ProspectEvents.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server of the test run. Plain <c>dotnet test</c> must work on a machine that only has the
/// PostgreSQL server binaries installed, so the first test that needs PostgreSQL starts a <see cref="ThrowawayPostgres"/>
/// (durability off) and the process exit stops and deletes it. Every caller gets a database of its own, so test
/// classes can run in parallel without seeing each other's rows.
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

    // Durability is pointless for a throwaway server and costs seconds per run; many parallel test classes each hold a pool.
    private static readonly string[] Settings = ["fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=300"];

    // One server per test process. Lazy gives thread-safe, exactly-once start-up for the many test classes that call
    // in parallel; a failed start stays cached, so every PostgreSQL test fails fast with the same explanation instead
    // of each one retrying initdb. Task.Run keeps the slow start-up off the thread that holds Lazy's lock.
    private static readonly Lazy<Task<string>> AdminConnectionString =
        new(() => Task.Run(GetAdminConnectionStringAsync));

    /// <summary>Creates a fresh, empty database on the shared server and returns an Npgsql connection string to it.</summary>
    public static async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        // The start-up is shared, so one caller's cancellation only stops that caller's wait, not the start-up.
        var admin = await AdminConnectionString.Value.WaitAsync(cancellationToken);
        var name = "t_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

        try
        {
            await ThrowawayPostgres.CreateDatabaseAsync(admin, name, cancellationToken);
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
        var binDirectory = await ThrowawayPostgres.FindBinariesAsync() ?? throw new InvalidOperationException(
            "Tests need PostgreSQL, but no PostgreSQL server binaries (initdb and pg_ctl) were found in " +
            "/usr/lib/postgresql/*/bin, in `pg_config --bindir`, or on PATH. " + FixHint);

        ThrowawayPostgres server;
        try
        {
            server = await ThrowawayPostgres.StartAsync(binDirectory, Settings);
        }
        catch (InvalidOperationException exception)
        {
            throw new InvalidOperationException(
                $"Tests need PostgreSQL, but the throwaway test server could not be started: {exception.Message}\n{FixHint}", exception);
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.StopAndDelete();
        return server.ConnectionString();
    }

    private static string DescribeWithoutPassword(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"Host={builder.Host};Port={builder.Port};Username={builder.Username};Database={builder.Database}";
    }
}
