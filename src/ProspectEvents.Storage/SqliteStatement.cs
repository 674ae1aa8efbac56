using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace ProspectEvents.Storage;

/// <summary>
/// A statement prepared once on a connection and bound by position through SQLite's own API, for ingest's bulk
/// inserts and the event fetch. Microsoft.Data.Sqlite binds each parameter by name, through a parameter object, a
/// boxed value and a UTF-8 copy of each text: for a state row of ten columns that cost more than the insert itself.
/// Texts are bound as UTF-16 (SQLite converts them as it copies them), ids straight from a span.
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

    /// <summary>Steps the statement: true with a row to read, false at its end.</summary>
    public bool Step()
    {
        var result = raw.sqlite3_step(_statement);
        if (result == raw.SQLITE_ROW) return true;
        if (result != raw.SQLITE_DONE) Check(result);
        return false;
    }

    /// <summary>Readies the statement for the next binding (the bound values stay).</summary>
    public void Reset() => raw.sqlite3_reset(_statement);

    /// <summary>Column <paramref name="column"/> (from 0) of the current row as an integer.</summary>
    public long Int64(int column) => raw.sqlite3_column_int64(_statement, column);

    /// <summary>
    /// Column <paramref name="column"/> (from 0) of the current row as bytes, a text's as UTF-8, valid until the next
    /// step or reset.
    /// </summary>
    public ReadOnlySpan<byte> Bytes(int column) => raw.sqlite3_column_blob(_statement, column);

    private void Check(int result) => SqliteException.ThrowExceptionForRC(result, _db);

    public void Dispose() => _statement.Dispose();
}
