using System.Data.Common;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace ProspectEvents.Storage;

/// <summary>
/// Group commit for SQLite. SQLite has one writer at a time and a commit costs a WAL append of every page it
/// dirtied, so one transaction per request spends most of its time rewriting the same index pages. Instead, one
/// loop on one long-lived connection takes every write waiting in the queue, runs each inside a savepoint of a
/// shared transaction (a failing write rolls back alone and gets its exception), commits once, and only then
/// completes the callers. A write is acknowledged only after the commit that holds it.
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    private const int MaxBatch = 256;

    private readonly Channel<IWrite> _queue = Channel.CreateUnbounded<IWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<CancellationToken, ValueTask<SqliteConnection>> _open;
    private readonly SqliteCheckpointer _checkpointer;
    private readonly Task _loop;

    /// <param name="open">Opens the writer's connection.</param>
    /// <param name="openOther">Opens a plain connection, for the checkpointer.</param>
    /// <param name="checkpointFailed">Told of each failed background checkpoint (it is retried).</param>
    public SqliteWriter(Func<CancellationToken, ValueTask<SqliteConnection>> open, Func<CancellationToken, ValueTask<SqliteConnection>> openOther,
        Action<Exception> checkpointFailed)
    {
        _open = open;
        _checkpointer = new SqliteCheckpointer(openOther, checkpointFailed);
        _loop = Task.Run(RunAsync);
    }

    /// <param name="bulk">
    /// An ingest batch: a commit holding one leaves its checkpoint to <see cref="SqliteCheckpointer"/>, so the next
    /// batch need not wait for it. Other commits keep SQLite's own checkpoint, inside the commit that fills
    /// <see cref="InlineCheckpointPages"/>: with the checkpoint beside it on the same core, a request's p99 was worse.
    /// </param>
    public Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken, bool bulk = false)
    {
        var write = new Write<T>(work, cancellationToken, bulk);
        if (!_queue.Writer.TryWrite(write)) throw new ObjectDisposedException(nameof(SqliteWriter));
        return write.Completion.Task;
    }

    private async Task RunAsync()
    {
        SqliteConnection? connection = null;
        WriterStatements? statements = null;
        var batch = new List<IWrite>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync())
            {
                batch.Clear();
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var write))
                {
                    if (!write.CancelIfRequested()) batch.Add(write);
                }
                if (batch.Count == 0) continue;

                try
                {
                    if (connection is null)
                    {
                        connection = await _open(CancellationToken.None);
                        statements = new WriterStatements(connection);
                    }
                    var bulk = batch.Exists(write => write.Bulk);
                    if (bulk != statements!.Bulk) statements.SetBulk(bulk);
                    await CommitBatchAsync(connection, statements, batch);
                    if (bulk) _checkpointer.Committed();
                }
                catch (Exception e)
                {
                    // The batch transaction itself failed (BEGIN or COMMIT): nothing of it was written.
                    foreach (var write in batch) write.Fail(e);
                    if (connection is not null) await connection.DisposeAsync();
                    connection = null;
                }
            }
        }
        finally
        {
            if (connection is not null) await connection.DisposeAsync();
        }
    }

    private static async Task CommitBatchAsync(SqliteConnection connection, WriterStatements statements, List<IWrite> batch)
    {
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(); // IMMEDIATE
        var done = new List<IWrite>(batch.Count);
        foreach (var write in batch)
        {
            statements.Run(statements.Save, transaction);
            try
            {
                await write.RunAsync(connection, transaction);
                statements.Run(statements.Release, transaction);
                done.Add(write);
            }
            catch (Exception e)
            {
                statements.Run(statements.Rollback, transaction);
                statements.Run(statements.Release, transaction);
                write.Fail(e);
            }
        }
        await transaction.CommitAsync();
        foreach (var write in done) write.Complete();
    }

    /// <summary>WAL pages at which a commit that holds no bulk write checkpoints (SQLite's default).</summary>
    private const int InlineCheckpointPages = 1000;

    /// <summary>
    /// WAL pages at which even a bulk commit checkpoints itself: the backstop should the checkpointer fall behind.
    /// A passive checkpoint beside a writer that never pauses may not catch up, and the WAL must stay bounded.
    /// </summary>
    private const int BulkCheckpointPages = 16_000;

    /// <summary>The savepoint statements, prepared once per connection (SqliteTransaction.Save parses them each time).</summary>
    private sealed class WriterStatements(SqliteConnection connection)
    {
        /// <summary>Whether the connection's automatic checkpoint is set for bulk commits.</summary>
        public bool Bulk { get; private set; }

        public void SetBulk(bool bulk)
        {
            using var command = new SqliteCommand($"PRAGMA wal_autocheckpoint = {(bulk ? BulkCheckpointPages : InlineCheckpointPages)}", connection);
            command.ExecuteNonQuery();
            Bulk = bulk;
        }

        public SqliteCommand Save { get; } = new("SAVEPOINT write", connection);
        public SqliteCommand Release { get; } = new("RELEASE write", connection);
        public SqliteCommand Rollback { get; } = new("ROLLBACK TO write", connection);

        public void Run(SqliteCommand command, SqliteTransaction transaction)
        {
            command.Transaction = transaction;
            command.ExecuteNonQuery();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
        await _checkpointer.DisposeAsync();
    }

    private interface IWrite
    {
        bool Bulk { get; }

        bool CancelIfRequested();
        Task RunAsync(DbConnection connection, DbTransaction transaction);
        void Complete();
        void Fail(Exception exception);
    }

    private sealed class Write<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken, bool bulk) : IWrite
    {
        public bool Bulk => bulk;

        private T? _result;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool CancelIfRequested() => cancellationToken.IsCancellationRequested && Completion.TrySetCanceled(cancellationToken);

        public async Task RunAsync(DbConnection connection, DbTransaction transaction) => _result = await work(connection, transaction);

        public void Complete() => Completion.TrySetResult(_result!);

        public void Fail(Exception exception) => Completion.TrySetException(exception);
    }
}
