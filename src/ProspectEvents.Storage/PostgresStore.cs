using System.Data.Common;
using Npgsql;

namespace ProspectEvents.Storage;

/// <summary>PostgreSQL, shared by any number of server and CLI processes.</summary>
public sealed class PostgresStore(string connectionString) : Store
{
    // An arbitrary constant naming the migration lock among advisory locks.
    private const long MigrationLockKey = 0x5052_4F53_5045_4354; // "PROSPECT"

    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);

    public override string Provider => StorageOptions.Postgres;

    public override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    protected override bool IsUniqueViolation(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    protected override async Task LockForMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", (NpgsqlConnection)connection, (NpgsqlTransaction)transaction);
        command.Parameters.AddWithValue("key", MigrationLockKey);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
