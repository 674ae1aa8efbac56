namespace ProspectEvents.Storage;

/// <summary>The <c>Storage</c> configuration section.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    /// <summary><c>sqlite</c> (embedded default) or <c>postgres</c>.</summary>
    public string Provider { get; set; } = Sqlite;

    /// <summary>A Microsoft.Data.Sqlite or Npgsql connection string, depending on <see cref="Provider"/>.</summary>
    public string ConnectionString { get; set; } = "Data Source=data/prospect-events.db";

    /// <summary>
    /// SQLite only: how many bytes of the database file the connections answering event fetches map into memory
    /// (<c>PRAGMA mmap_size</c>; the bundled SQLite maps at most 2 GiB); 0 reads every page with a system call.
    /// </summary>
    public long SqliteMmapSize { get; set; } = DefaultSqliteMmapSize;

    public const long DefaultSqliteMmapSize = 2L << 30;
}
