using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace ProspectEvents.Storage;

/// <summary>The embedded default: one SQLite file in WAL mode.</summary>
public sealed partial class SqliteStore : Store
{
    // The busy timeout covers writers in other processes (the CLI verbs next to a running server).
    private const string ConnectionPragmas = "PRAGMA busy_timeout = 10000;";

    // The writer's own connection, set once: NORMAL is durable across process crashes in WAL mode (only an OS
    // crash can lose the last commits); a large page cache keeps the indexes it writes to in memory. Checkpoints:
    // SQLite's own, inside the commit, for requests; in the background for ingest batches (SqliteWriter.WriteAsync).
    private const string WriterPragmas = "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;";

    private readonly string _connectionString;

    private readonly SqliteWriter _writer;

    // Long-lived read connections, and the prepared commands of every connection the store keeps (readers and
    // the writer's): opening a pooled connection and parsing SQL cost more than the queries themselves.
    private readonly ConcurrentBag<SqliteConnection> _readers = [];

    // Readers for the event fetches (ReadEventsAsync), with the file mapped: a fetch seeks ~40 index paths scattered over
    // the file, and copying each page in with a read call cost a third of a fetch. A mapping adds the pages it touches
    // to the process's RSS (as file pages: the OS page cache, shared and reclaimable), so only these readers have one.
    private readonly ConcurrentBag<SqliteConnection> _mappedReaders = [];
    private readonly string _mappedPragmas;
    private readonly ConditionalWeakTable<SqliteConnection, Dictionary<string, KeptSqliteCommand>> _kept = new();
    private const int MaxKeptCommands = 256;

    // Statements bound by position (SqliteStatement), kept per connection like the commands above.
    private readonly ConditionalWeakTable<SqliteConnection, Dictionary<string, SqliteStatement>> _statements = new();

    static SqliteStore() => SqliteNative.ConfigureLibrary();

    public SqliteStore(string connectionString, long mmapSize = StorageOptions.DefaultSqliteMmapSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(mmapSize);
        _mappedPragmas = ConnectionPragmas + $"PRAGMA mmap_size = {mmapSize};";
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        _connectionString = builder.ToString();
        _writer = new SqliteWriter(OpenWriterConnectionAsync, async cancellationToken => await OpenAsync(ConnectionPragmas, cancellationToken),
            e => StoreLog.CheckpointFailed(Logger, e));
    }

    public override string Provider => StorageOptions.Sqlite;

    public override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await OpenAsync(ConnectionPragmas, cancellationToken);

    private async ValueTask<SqliteConnection> OpenWriterConnectionAsync(CancellationToken cancellationToken) =>
        Keep(await OpenAsync(ConnectionPragmas + WriterPragmas, cancellationToken));

    private SqliteConnection Keep(SqliteConnection connection)
    {
        var commands = new Dictionary<string, KeptSqliteCommand>(StringComparer.Ordinal);
        var statements = new Dictionary<string, SqliteStatement>(StringComparer.Ordinal);
        _kept.Add(connection, commands);
        _statements.Add(connection, statements);
        // SQLite closes a connection only once every statement of it is finalized: until then the file stays open.
        // This runs once the handle is back in the pool, where another thread may take it: safe, since the bundled
        // SQLite (e_sqlite3) is built serialized, one mutex a connection.
        connection.StateChange += (_, change) =>
        {
            if (change.CurrentState != System.Data.ConnectionState.Closed) return;
            foreach (var command in commands.Values) command.Release();
            foreach (var statement in statements.Values) statement.Dispose();
            commands.Clear();
            statements.Clear();
        };
        return connection;
    }

    /// <summary>The statement for <paramref name="sql"/> on a kept connection, prepared at its first use.</summary>
    private SqliteStatement Statement(SqliteConnection connection, string sql)
    {
        var statements = _statements.GetValue(connection, _ => throw new InvalidOperationException("Not a kept connection."));
        if (!statements.TryGetValue(sql, out var kept)) statements.Add(sql, kept = new SqliteStatement(connection, sql));
        return kept;
    }

    private static readonly string InsertStateSql =
        $"INSERT INTO prospect_states (state_pk, prospect_id, {StateColumns}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

    protected internal override Task AppendStatesAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<StateRow> rows, CancellationToken cancellationToken)
    {
        var insert = Statement((SqliteConnection)connection, InsertStateSql);
        Span<byte> id = stackalloc byte[ProspectId.ByteLength];
        foreach (var (statePk, key, state) in rows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            key.Write(id);
            insert.Bind(1, statePk);
            insert.Bind(2, id);
            insert.Bind(3, ToUnixMs(state.ObservedAt));
            insert.Bind(4, state.FullName);
            insert.Bind(5, state.JobTitle);
            insert.Bind(6, state.CompanyId);
            insert.Bind(7, state.CompanyName);
            insert.Bind(8, state.CompanyDomain);
            insert.Bind(9, state.JobStartDate?.ToString());
            insert.Bind(10, state.LinkedinUrl);
            insert.Execute();
        }
        return Task.CompletedTask;
    }

    protected override Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> read, CancellationToken cancellationToken) =>
        ReadOnAsync(_readers, ConnectionPragmas, read, cancellationToken);

    // A text column read as a blob gives its UTF-8 bytes as stored.
    protected override byte[] ReadUtf8(DbDataReader reader, int ordinal) => reader.GetFieldValue<byte[]>(ordinal);

    protected override Task<T> ReadEventsAsync<T>(Func<DbConnection, Task<T>> read, CancellationToken cancellationToken) =>
        ReadOnAsync(_mappedReaders, _mappedPragmas, read, cancellationToken);

    private async Task<T> ReadOnAsync<T>(ConcurrentBag<SqliteConnection> readers, string pragmas, Func<DbConnection, Task<T>> read, CancellationToken cancellationToken)
    {
        var connection = readers.TryTake(out var kept) ? kept : Keep(await OpenAsync(pragmas, cancellationToken));
        try
        {
            var result = await read(connection);
            readers.Add(connection);
            return result;
        }
        catch
        {
            await connection.DisposeAsync(); // in an unknown state: don't hand it out again
            throw;
        }
    }

    protected override DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql)
    {
        if (connection is not SqliteConnection sqlite || !_kept.TryGetValue(sqlite, out var commands)) return base.Command(connection, transaction, sql);
        if (!commands.TryGetValue(sql, out var command))
        {
            // A bound on what one connection keeps prepared, should a caller build ever new statement texts.
            if (commands.Count >= MaxKeptCommands) return base.Command(connection, transaction, sql);
            command = new KeptSqliteCommand(sql, sqlite);
            commands.Add(sql, command);
        }
        command.Transaction = (SqliteTransaction?)transaction;
        command.Parameters.Clear();
        return command;
    }

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

    protected override Task<T> BulkWriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        _writer.WriteAsync(work, cancellationToken, bulk: true);

    // Measured when states still went this way, on a 1M-prospect first sight: 25 rows (250 parameters) a statement took
    // 15.3 s, 5 rows 10.2 s, 2 rows 10.1 s. States now go one prepared statement a row (AppendStatesAsync).
    protected override int RowsPerStatement => 2;

    protected override string NewDeliveryIdSql => "'msg_' || lower(hex(randomblob(12)))";

    // A JSON array in one parameter: naming each row would cost a scan of the statement's names per parameter.
    protected override string SelectRowNumbersSql(string parameter) => $"SELECT value FROM json_each({parameter})";

    protected override object RowNumbers(IReadOnlyCollection<long> rows) => $"[{string.Join(',', rows)}]";

    protected override string SelectTextsSql(string parameter) => $"SELECT value FROM json_each({parameter})";

    protected override object Texts(IReadOnlyCollection<string> texts)
    {
        var json = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new System.Text.Json.Utf8JsonWriter(json))
        {
            writer.WriteStartArray();
            foreach (var text in texts) writer.WriteStringValue(text);
            writer.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(json.WrittenSpan);
    }

    protected override bool IsUniqueViolation(DbException exception) =>
        exception is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 };

    // SQLITE_BUSY (5) and SQLITE_LOCKED (6), extended forms included: another connection holds the lock for longer
    // than the busy timeout. Everything else SQLite reports (constraint, corrupt, full, read-only) a retry cannot fix.
    public override bool IsTransient(Exception exception) =>
        exception is SqliteException e && (e.SqliteErrorCode & 0xFF) is 5 or 6;

    protected override async Task PrepareDatabaseAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL";
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    protected override Task TakeLockAsync(DbConnection connection, DbTransaction transaction, long key, CancellationToken cancellationToken) =>
        Task.CompletedTask; // The IMMEDIATE transaction already excludes every other writer.

    public override async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync();
        while (_readers.TryTake(out var reader)) await reader.DisposeAsync();
        while (_mappedReaders.TryTake(out var reader)) await reader.DisposeAsync();
        // Pooled handles keep the file open; release them so the file can be moved or deleted.
        SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
    }
}
