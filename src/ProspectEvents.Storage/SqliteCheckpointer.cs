using Microsoft.Data.Sqlite;

namespace ProspectEvents.Storage;

/// <summary>
/// Copies committed WAL frames into the database file on a connection and thread of its own, so the writer does
/// not: SQLite's automatic checkpoint runs inside the commit that crosses its threshold, and the writer (with every
/// caller queued behind it) waited for the page copies and the two fsyncs. A PASSIVE checkpoint takes no lock a
/// writer needs, so commits go on while it runs. The writer signals after each commit; a checkpoint runs at most
/// every <see cref="Interval"/>. The writer keeps a large automatic threshold as a backstop, should this loop fall
/// behind (or stop) while the WAL grows.
/// </summary>
internal sealed class SqliteCheckpointer : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private readonly SemaphoreSlim _due = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<CancellationToken, ValueTask<SqliteConnection>> _open;
    private readonly Action<Exception> _failed;
    private readonly Task _loop;

    public SqliteCheckpointer(Func<CancellationToken, ValueTask<SqliteConnection>> open, Action<Exception> failed)
    {
        _open = open;
        _failed = failed;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Something was committed: a checkpoint is due (once, however many commits say so).</summary>
    public void Committed()
    {
        if (_due.CurrentCount > 0) return;
        try
        {
            _due.Release();
        }
        catch (SemaphoreFullException)
        {
            // Another commit signalled first: one checkpoint covers both.
        }
    }

    private async Task RunAsync()
    {
        SqliteConnection? connection = null;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await _due.WaitAsync(_stop.Token);
                try
                {
                    connection ??= await _open(_stop.Token);
                    await using var command = connection.CreateCommand();
                    command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
                    await command.ExecuteNonQueryAsync(_stop.Token);
                }
                catch (Exception e) when (!_stop.IsCancellationRequested)
                {
                    _failed(e);
                    // Whatever failed (busy, I/O, opening the connection) is retried at the next commit on a fresh
                    // connection; meanwhile the writer's backstop bounds the WAL. The loop itself must not end.
                    if (connection is not null) await connection.DisposeAsync();
                    connection = null;
                }
                await Task.Delay(Interval, _stop.Token);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        finally
        {
            if (connection is not null) await connection.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        _due.Dispose();
    }
}
