using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace ProspectEvents.Storage;

/// <summary>The embedded default: one SQLite file in WAL mode.</summary>
public sealed class SqliteStore : Store
{
    // Per connection: NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the last
    // commits); the busy timeout covers writers in other processes (the CLI verbs next to a running server).
    private const string ConnectionPragmas = "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; PRAGMA cache_size = -65536;";

    private readonly string _connectionString;

    // SQLite allows one writer at a time. Queueing this process's writers here is far cheaper than letting them
    // collide on the file lock and back off inside the driver.
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    public SqliteStore(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        _connectionString = builder.ToString();
    }

    public override string Provider => StorageOptions.Sqlite;

    public override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = ConnectionPragmas;
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    protected override async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            // Microsoft.Data.Sqlite begins IMMEDIATE transactions: the write lock is taken up front, never upgraded mid-way.
            return await base.WriteAsync(work, cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    protected override bool IsUniqueViolation(DbException exception) =>
        exception is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 };

    protected override async Task PrepareDatabaseAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL";
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    protected override Task LockForMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        Task.CompletedTask; // The IMMEDIATE transaction already excludes every other writer.

    public override ValueTask DisposeAsync()
    {
        // Pooled handles keep the file open; release them so the file can be moved or deleted.
        SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
        _writeLock.Dispose();
        return ValueTask.CompletedTask;
    }
}
