using Microsoft.Data.Sqlite;

namespace ProspectEvents.Storage;

/// <summary>
/// A command kept prepared on one of <see cref="SqliteStore"/>'s long-lived connections. Callers dispose commands
/// as usual; for this one that is a no-op, so the parsed statement survives to the next request. Closing the
/// connection finalizes its statements.
/// </summary>
internal sealed class KeptSqliteCommand(string sql, SqliteConnection connection) : SqliteCommand(sql, connection)
{
    protected override void Dispose(bool disposing)
    {
        // Kept for reuse: see the summary.
    }
}
