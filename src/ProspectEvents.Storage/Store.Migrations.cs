using System.Data.Common;
using Dapper;

namespace ProspectEvents.Storage;

public abstract partial class Store
{
    /// <summary>A versioned SQL script embedded from <c>Migrations/&lt;provider&gt;/NNNN_name.sql</c>.</summary>
    public sealed record Migration(int Version, string Name, string Sql);

    /// <summary>This provider's scripts, in version order.</summary>
    public IReadOnlyList<Migration> Migrations()
    {
        var assembly = typeof(Store).Assembly;
        var prefix = $"Migrations/{Provider}/";
        return assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .Select(name =>
            {
                var file = name[prefix.Length..^".sql".Length];
                using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
                return new Migration(int.Parse(file[..file.IndexOf('_', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture), file, reader.ReadToEnd());
            })
            .OrderBy(m => m.Version)
            .ToList();
    }

    /// <summary>
    /// Applies every script not yet applied, all in one transaction under a lock, so several processes starting
    /// at once against one database neither race nor leave a half-upgraded schema. Returns the names applied.
    /// </summary>
    public async Task<IReadOnlyList<string>> MigrateAsync(TimeProvider clock, CancellationToken cancellationToken)
    {
        await PrepareDatabaseAsync(cancellationToken);
        return await WriteAsync(async (connection, transaction) =>
        {
            await LockAsync(connection, transaction, MigrationLock, cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                transaction: transaction, cancellationToken: cancellationToken));
            var applied = (await connection.QueryAsync<int>(new CommandDefinition(
                "SELECT version FROM schema_migrations", transaction: transaction, cancellationToken: cancellationToken))).ToHashSet();

            var names = new List<string>();
            foreach (var migration in Migrations().Where(m => !applied.Contains(m.Version)))
            {
                await connection.ExecuteAsync(new CommandDefinition(migration.Sql, transaction: transaction, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@Version, @Name, @Now)",
                    new { migration.Version, migration.Name, Now = ToUnixMs(clock.GetUtcNow()) },
                    transaction, cancellationToken: cancellationToken));
                names.Add(migration.Name);
            }
            return (IReadOnlyList<string>)names;
        }, cancellationToken);
    }

    /// <summary>Settings that cannot be changed inside a transaction (SQLite's journal mode).</summary>
    protected virtual Task PrepareDatabaseAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // Arbitrary constants naming the singleton jobs among advisory locks.
    protected const long MigrationLock = 0x5052_4F53_5045_4354; // "PROSPECT"
    protected const long AnniversaryLock = MigrationLock + 1;
    protected const long IngestLock = MigrationLock + 2;
    protected const long IndexerLock = MigrationLock + 3;
    protected const long RetentionLock = MigrationLock + 4;

    /// <summary>
    /// Keeps processes sharing the database apart for the length of <paramref name="transaction"/>: migrators,
    /// ingest batches, and singleton jobs such as the anniversary sweep.
    /// </summary>
    protected abstract Task LockAsync(DbConnection connection, DbTransaction transaction, long key, CancellationToken cancellationToken);

    internal Task LockIngestAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        LockAsync(connection, transaction, IngestLock, cancellationToken);
}
