using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace ProspectEvents.Storage;

/// <summary>The embedded default: one SQLite file in WAL mode.</summary>
public sealed class SqliteStore : Store
{
    // The busy timeout covers writers in other processes (the CLI verbs next to a running server).
    private const string ConnectionPragmas = "PRAGMA busy_timeout = 10000;";

    // The writer's own connection, set once: NORMAL is durable across process crashes in WAL mode (only an OS
    // crash can lose the last commits); a large page cache keeps the indexes it writes to in memory.
    private const string WriterPragmas = "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;";

    private readonly string _connectionString;

    private readonly SqliteWriter _writer;

    public SqliteStore(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        _connectionString = builder.ToString();
        _writer = new SqliteWriter(OpenWriterConnectionAsync);
    }

    public override string Provider => StorageOptions.Sqlite;

    public override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await OpenAsync(ConnectionPragmas, cancellationToken);

    private async ValueTask<SqliteConnection> OpenWriterConnectionAsync(CancellationToken cancellationToken) =>
        await OpenAsync(ConnectionPragmas + WriterPragmas, cancellationToken);

    private async ValueTask<SqliteConnection> OpenAsync(string pragmas, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Every write of this process goes through one group-committing writer (see <see cref="SqliteWriter"/>).</summary>
    protected override Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        _writer.WriteAsync(work, cancellationToken);

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

    public override async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync();
        // Pooled handles keep the file open; release them so the file can be moved or deleted.
        SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
    }
}
