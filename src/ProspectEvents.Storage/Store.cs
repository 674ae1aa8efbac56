using System.Data.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ProspectEvents.Storage;

/// <summary>
/// The storage seam. SQL shared by both providers lives here, on plain <see cref="DbConnection"/>s;
/// <see cref="SqliteStore"/> and <see cref="PostgresStore"/> override only what differs between dialects.
/// </summary>
public abstract partial class Store : IAsyncDisposable
{
    /// <summary><c>sqlite</c> or <c>postgres</c>, as in <see cref="StorageOptions.Provider"/>.</summary>
    public abstract string Provider { get; }

    /// <summary>Where housekeeping that must not fail its caller (background checkpoints) says what went wrong.</summary>
    public ILogger Logger { get; private set; } = NullLogger.Instance;

    public static Store Create(StorageOptions options, ILogger? logger = null)
    {
        Store store = options.Provider.ToLowerInvariant() switch
        {
            StorageOptions.Sqlite => new SqliteStore(options.ConnectionString, options.SqliteMmapSize),
            StorageOptions.Postgres => new PostgresStore(options.ConnectionString),
            _ => throw new ArgumentException(
                $"Storage:Provider must be '{StorageOptions.Sqlite}' or '{StorageOptions.Postgres}', not '{options.Provider}'.", nameof(options)),
        };
        store.Logger = logger ?? NullLogger.Instance;
        if (store is SqliteStore)
            StoreLog.SqliteLibrary(store.Logger, SQLitePCL.raw.sqlite3_libversion().utf8_to_string(), SqliteNative.MultiThreaded ? "multi-thread" : "serialized");
        return store;
    }

    /// <summary>An open connection, configured for this provider.</summary>
    public abstract ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> in one write transaction and commits it; any exception rolls everything back,
    /// so a rejected request changes nothing.
    /// </summary>
    protected virtual async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        try
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var result = await work(connection, transaction);
            await transaction.CommitAsync(cancellationToken);
            return result;
        }
        catch (DbException)
        {
            Refused(connection);
            throw;
        }
    }

    /// <summary>
    /// <see cref="WriteAsync{T}"/> for one ingest batch of a long run of them: a provider may trade the latency of
    /// requests writing beside it for the throughput of the run (SQLite checkpoints such commits in the background).
    /// </summary>
    protected virtual Task<T> BulkWriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        WriteAsync(work, cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> in one write transaction over states, events and the observation log, and commits
    /// it; any exception rolls it all back. For ingest's batches and housekeeping, a long run of writes: a provider may
    /// trade the latency of requests writing beside them for their throughput (<see cref="BulkWriteAsync{T}"/>).
    /// </summary>
    public async Task<T> WriteStatesAsync<T>(Func<StateTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        StateTransaction? last = null;
        var result = await BulkWriteAsync((connection, transaction) => work(last = new StateTransaction(this, connection, transaction)), cancellationToken);
        if (last is { InsertedEvents: > 0 }) OutboxWritten?.Invoke(); // committed events have deliveries to claim
        return result;
    }

    /// <summary>Runs one read on a connection of its own.</summary>
    protected virtual async Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> read, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        try
        {
            return await read(connection);
        }
        catch (DbException)
        {
            Refused(connection);
            throw;
        }
    }

    /// <summary>
    /// <see cref="ReadAsync{T}"/> for the API's event fetches, which seek the events of tens of prospects scattered
    /// over the whole table: SQLite answers them from connections that map the file instead of copying each page.
    /// </summary>
    protected virtual Task<T> ReadEventsAsync<T>(Func<DbConnection, Task<T>> read, CancellationToken cancellationToken) =>
        ReadAsync(read, cancellationToken);

    /// <summary>The database refused a statement on <paramref name="connection"/>, which goes back to the pool next.</summary>
    protected virtual void Refused(DbConnection connection)
    {
    }

    /// <summary>
    /// A command for <paramref name="sql"/>, to dispose after use. A provider may hand back one it keeps prepared on a
    /// long-lived connection (its disposal is then a no-op), so hot statements are parsed once, not per request.
    /// </summary>
    protected virtual DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    /// <summary>Adds a parameter; null is sent as SQL NULL.</summary>
    protected static void AddParameter(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    /// <summary>True when <paramref name="exception"/> reports a unique-constraint violation.</summary>
    protected abstract bool IsUniqueViolation(DbException exception);

    /// <summary>
    /// True when <paramref name="exception"/> says the database could not do the work now but may a moment later
    /// (unreachable, locked, busy, a serialization failure): worth a retry as it is. False for anything a retry cannot
    /// fix (a constraint, a type, a bug of ours). The one place where database errors are classified.
    /// </summary>
    public abstract bool IsTransient(Exception exception);

    /// <summary>Raised after a commit of this process that may have made deliveries due (events matched, replays, a webhook registered).</summary>
    public event Action? OutboxWritten;

    /// <summary>Awaits <paramref name="write"/>, then tells <see cref="OutboxWritten"/>: only a committed write has work to claim.</summary>
    private async Task<T> ThenOutboxWritten<T>(Task<T> write)
    {
        var result = await write;
        OutboxWritten?.Invoke();
        return result;
    }

    /// <summary>Cheap round trip proving the database answers (for <c>/readyz</c>).</summary>
    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1";
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 1;
    }

    public abstract ValueTask DisposeAsync();

    protected static long ToUnixMs(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    /// <summary>Column <paramref name="i"/>, Unix milliseconds, as a time; null for NULL.</summary>
    protected static DateTimeOffset? Time(DbDataReader reader, int i) => reader.IsDBNull(i) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(i));

    /// <summary>Column <paramref name="i"/> as an int, whichever integer type the provider reads it as (SQLite: long).</summary>
    protected static int Int(DbDataReader reader, int i) => Convert.ToInt32(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture);
}
