using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace ProspectEvents.Storage;

/// <summary>
/// A statement prepared once on a connection and bound by position through SQLite's own API, for ingest's bulk
/// inserts. Microsoft.Data.Sqlite binds each parameter by name, through a parameter object, a boxed value and a
/// UTF-8 copy of each text: for a state row of ten columns that cost more than the insert itself. Texts are bound as
/// UTF-16 (SQLite converts them as it copies them), ids straight from a span.
/// </summary>
internal sealed class SqliteStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    public SqliteStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(_db, sql, out _statement), _db);
    }

    public void Bind(int index, long value) => Check(raw.sqlite3_bind_int64(_statement, index, value));

    public void Bind(int index, string? value) =>
        Check(value is null ? raw.sqlite3_bind_null(_statement, index) : raw.sqlite3_bind_text16(_statement, index, value.AsSpan()));

    public void Bind(int index, ReadOnlySpan<byte> value) => Check(raw.sqlite3_bind_blob(_statement, index, value));

    /// <summary>Runs the statement to its end (it must return no rows) and readies it for the next binding.</summary>
    public void Execute()
    {
        try
        {
            var result = raw.sqlite3_step(_statement);
            if (result == raw.SQLITE_ROW) throw new SqliteException("The statement returned rows; Execute runs statements that return none.", raw.SQLITE_MISUSE);
            if (result != raw.SQLITE_DONE) Check(result);
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    private void Check(int result) => SqliteException.ThrowExceptionForRC(result, _db);

    public void Dispose() => _statement.Dispose();
}
