using System.Runtime.InteropServices;

namespace ProspectEvents.Storage;

/// <summary>
/// The few SQLite calls a kept statement makes per row, declared on raw handles. Through SQLitePCL each call went
/// through an interface dispatch and a SafeHandle add-ref and release, and each column read through a GC transition:
/// a fetch makes about 500 such calls. The library is the one Microsoft.Data.Sqlite loads (e_sqlite3), so the handles
/// are the same objects. Calls that only read or copy memory skip the GC transition; step and reset may do I/O and
/// keep it.
/// </summary>
internal static unsafe partial class SqliteNative
{
    private const string Library = "e_sqlite3";

    /// <summary>Whether <see cref="ConfigureLibrary"/> took effect: false when SQLite was in use before it ran.</summary>
    public static bool MultiThreaded { get; private set; }

    /// <summary>
    /// Sets SQLite's threading mode to multi-thread before its first connection opens. In the default (serialized)
    /// mode every API call takes the connection's mutex, two per column read; the store never uses a connection
    /// from two threads at once (each is taken from a pool, or owned by one loop), which is all multi-thread mode
    /// asks. Its allocation statistics, which take a global mutex per allocation, are off too. Once SQLite is
    /// initialized the settings are refused, and the library stays as it was.
    /// </summary>
    public static void ConfigureLibrary()
    {
        SQLitePCL.Batteries_V2.Init();
        if (SQLitePCL.raw.sqlite3_config(SQLitePCL.raw.SQLITE_CONFIG_MULTITHREAD) != SQLitePCL.raw.SQLITE_OK) return;
        SQLitePCL.raw.sqlite3_config(SQLitePCL.raw.SQLITE_CONFIG_MEMSTATUS, 0);
        MultiThreaded = true;
    }

    /// <summary>SQLITE_TRANSIENT: SQLite copies a bound value before the call returns.</summary>
    private static readonly nint Transient = -1;

    [LibraryImport(Library, EntryPoint = "sqlite3_step")]
    public static partial int Step(nint statement);

    [LibraryImport(Library, EntryPoint = "sqlite3_reset")]
    public static partial int Reset(nint statement);

    [LibraryImport(Library, EntryPoint = "sqlite3_bind_int64"), SuppressGCTransition]
    public static partial int BindInt64(nint statement, int index, long value);

    [LibraryImport(Library, EntryPoint = "sqlite3_bind_null"), SuppressGCTransition]
    public static partial int BindNull(nint statement, int index);

    [LibraryImport(Library, EntryPoint = "sqlite3_bind_blob"), SuppressGCTransition]
    private static partial int BindBlob(nint statement, int index, byte* value, int length, nint destructor);

    [LibraryImport(Library, EntryPoint = "sqlite3_bind_text16"), SuppressGCTransition]
    private static partial int BindText16(nint statement, int index, char* value, int bytes, nint destructor);

    [LibraryImport(Library, EntryPoint = "sqlite3_column_int64"), SuppressGCTransition]
    public static partial long ColumnInt64(nint statement, int column);

    [LibraryImport(Library, EntryPoint = "sqlite3_column_blob"), SuppressGCTransition]
    private static partial byte* ColumnBlob(nint statement, int column);

    [LibraryImport(Library, EntryPoint = "sqlite3_column_bytes"), SuppressGCTransition]
    private static partial int ColumnBytes(nint statement, int column);

    public static int BindBlob(nint statement, int index, ReadOnlySpan<byte> value)
    {
        // A null pointer would bind NULL: an empty blob needs a pointer that is not.
        byte empty = 0;
        fixed (byte* bytes = value) return BindBlob(statement, index, value.IsEmpty ? &empty : bytes, value.Length, Transient);
    }

    public static int BindText16(nint statement, int index, ReadOnlySpan<char> value)
    {
        char empty = '\0';
        fixed (char* chars = value) return BindText16(statement, index, value.IsEmpty ? &empty : chars, value.Length * sizeof(char), Transient);
    }

    /// <summary>A column's bytes (a text's as UTF-8), valid until the next step or reset of the statement.</summary>
    public static ReadOnlySpan<byte> ColumnSpan(nint statement, int column)
    {
        // The pointer first: sqlite3_column_bytes after sqlite3_column_blob gives the length of that same form.
        var bytes = ColumnBlob(statement, column);
        return bytes is null ? default : new ReadOnlySpan<byte>(bytes, ColumnBytes(statement, column));
    }
}
