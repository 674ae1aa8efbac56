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
    private readonly Task _loop;

    public SqliteWriter(Func<CancellationToken, ValueTask<SqliteConnection>> open)
    {
        _open = open;
        _loop = Task.Run(RunAsync);
    }

    public Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        var write = new Write<T>(work, cancellationToken);
        if (!_queue.Writer.TryWrite(write)) throw new ObjectDisposedException(nameof(SqliteWriter));
        return write.Completion.Task;
    }

    private async Task RunAsync()
    {
        SqliteConnection? connection = null;
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
                    connection ??= await _open(CancellationToken.None);
                    await CommitBatchAsync(connection, batch);
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

    private static async Task CommitBatchAsync(SqliteConnection connection, List<IWrite> batch)
    {
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(); // IMMEDIATE
        var done = new List<IWrite>(batch.Count);
        foreach (var write in batch)
        {
            await transaction.SaveAsync("write");
            try
            {
                await write.RunAsync(connection, transaction);
                await transaction.ReleaseAsync("write");
                done.Add(write);
            }
            catch (Exception e)
            {
                await transaction.RollbackAsync("write");
                await transaction.ReleaseAsync("write");
                write.Fail(e);
            }
        }
        await transaction.CommitAsync();
        foreach (var write in done) write.Complete();
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }

    private interface IWrite
    {
        bool CancelIfRequested();
        Task RunAsync(DbConnection connection, DbTransaction transaction);
        void Complete();
        void Fail(Exception exception);
    }

    private sealed class Write<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken) : IWrite
    {
        private T? _result;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool CancelIfRequested() => cancellationToken.IsCancellationRequested && Completion.TrySetCanceled(cancellationToken);

        public async Task RunAsync(DbConnection connection, DbTransaction transaction) => _result = await work(connection, transaction);

        public void Complete() => Completion.TrySetResult(_result!);

        public void Fail(Exception exception) => Completion.TrySetException(exception);
    }
}
