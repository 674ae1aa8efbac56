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
    // The statement's raw handle for SqliteNative's calls: _statement owns it and finalizes it on Dispose, and one
    // caller at a time uses a kept statement, so it cannot be finalized under a call.
    private readonly nint _handle;

    public SqliteStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(_db, sql, out _statement), _db);
        _handle = _statement.DangerousGetHandle();
    }

    public void Bind(int index, long value) => Check(SqliteNative.BindInt64(_handle, index, value));

    public void Bind(int index, string? value) =>
        Check(value is null ? SqliteNative.BindNull(_handle, index) : SqliteNative.BindText16(_handle, index, value));

    public void Bind(int index, ReadOnlySpan<byte> value) => Check(SqliteNative.BindBlob(_handle, index, value));

    /// <summary>Runs the statement to its end (it must return no rows) and readies it for the next binding.</summary>
    public void Execute()
    {
        try
        {
            var result = SqliteNative.Step(_handle);
            if (result == raw.SQLITE_ROW) throw new SqliteException("The statement returned rows; Execute runs statements that return none.", raw.SQLITE_MISUSE);
            if (result != raw.SQLITE_DONE) Check(result);
        }
        finally
        {
            SqliteNative.Reset(_handle);
        }
    }

    /// <summary>Steps the statement: true with a row to read, false at its end.</summary>
    public bool Step()
    {
        var result = SqliteNative.Step(_handle);
        if (result == raw.SQLITE_ROW) return true;
        if (result != raw.SQLITE_DONE) Check(result);
        return false;
    }

    /// <summary>Readies the statement for the next binding (the bound values stay).</summary>
    public void Reset() => SqliteNative.Reset(_handle);

    /// <summary>Column <paramref name="column"/> (from 0) of the current row as an integer.</summary>
    public long Int64(int column) => SqliteNative.ColumnInt64(_handle, column);

    /// <summary>
    /// Column <paramref name="column"/> (from 0) of the current row as bytes, a text's as UTF-8, valid until the next
    /// step or reset.
    /// </summary>
    public ReadOnlySpan<byte> Bytes(int column) => SqliteNative.ColumnSpan(_handle, column);

    private void Check(int result) => SqliteException.ThrowExceptionForRC(result, _db);

    public void Dispose() => _statement.Dispose();
}
