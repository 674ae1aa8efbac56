using Microsoft.Data.Sqlite;

namespace ProspectEvents.Storage;

/// <summary>
/// A command kept prepared on one of <see cref="SqliteStore"/>'s long-lived connections. Callers dispose commands
/// as usual; for this one that is a no-op, so the parsed statement survives to the next request. The store calls
/// <see cref="Release"/> when the connection closes: SQLite closes a connection only once its statements are finalized.
/// </summary>
internal sealed class KeptSqliteCommand(string sql, SqliteConnection connection) : SqliteCommand(sql, connection)
{
    private bool _released;

    /// <summary>Disposes the command for good, finalizing its statements.</summary>
    public void Release()
    {
        _released = true;
        Dispose();
    }

    protected override void Dispose(bool disposing)
    {
        if (_released) base.Dispose(disposing); // else kept for reuse: see the summary
    }
}
