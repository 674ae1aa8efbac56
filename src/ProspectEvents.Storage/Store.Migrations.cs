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
    /// ingest batches, and singleton jobs such as the anniversary sweep. Every lock but the migrators' then refuses the
    /// work with <see cref="NewerSchemaException"/> when a newer build has migrated the schema past what this one knows:
    /// an older process must not write what newer code would misread. Checked under the lock, in the transaction, so
    /// a migration commits either before the check or after the work.
    /// </summary>
    protected async Task LockAsync(DbConnection connection, DbTransaction transaction, long key, CancellationToken cancellationToken)
    {
        await TakeLockAsync(connection, transaction, key, cancellationToken);
        if (key == MigrationLock) return;
        await using var command = Command(connection, transaction, SchemaVersionSql);
        var schema = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        if (schema > KnownSchemaVersion) throw new NewerSchemaException(schema, KnownSchemaVersion);
    }

    /// <summary>The provider's lock (an advisory lock on PostgreSQL), held until <paramref name="transaction"/> ends.</summary>
    protected abstract Task TakeLockAsync(DbConnection connection, DbTransaction transaction, long key, CancellationToken cancellationToken);

    internal Task LockIngestAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        LockAsync(connection, transaction, IngestLock, cancellationToken);

    private const string SchemaVersionSql = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";

    private int? _knownSchemaVersion;

    /// <summary>
    /// The highest migration this build knows (its last script). Settable only so that tests can make a process claim
    /// an older build's version (<c>Internal:ClaimSchemaVersion</c>); it does not change which scripts are applied.
    /// </summary>
    public int KnownSchemaVersion
    {
        get => _knownSchemaVersion ??= Migrations()[^1].Version;
        set => _knownSchemaVersion = value;
    }

    /// <summary>The highest migration applied to the database (0 before the first).</summary>
    public Task<int> SchemaVersionAsync(CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Command(connection, null, SchemaVersionSql);
            return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        }, cancellationToken);
}

/// <summary>
/// The database's schema is at a migration this build does not know: a newer build upgraded it. Ingest and the
/// scheduled jobs refuse to run, since they would write what the newer code reads differently.
/// </summary>
public sealed class NewerSchemaException(int schemaVersion, int knownVersion) : Exception(Describe(schemaVersion, knownVersion))
{
    public int SchemaVersion { get; } = schemaVersion;
    public int KnownVersion { get; } = knownVersion;

    public static string Describe(int schemaVersion, int knownVersion) =>
        $"The database schema is at migration {schemaVersion:0000}, newer than this build knows ({knownVersion:0000}): a newer ProspectEvents upgraded it. "
        + "This process no longer ingests or runs scheduled jobs; replace it with the newer build.";
}
