using ProspectEvents.Storage;

namespace ProspectEvents.Tests.Infrastructure;

/// <summary>The storage providers every contract test runs against.</summary>
public enum Backend
{
    Sqlite,
    Postgres,
}

public static class TestStorage
{
    /// <summary>The command-line overrides that point a verb at <paramref name="storage"/>.</summary>
    public static string[] Arguments(this StorageOptions storage) =>
        [$"--Storage:Provider={storage.Provider}", $"--Storage:ConnectionString={storage.ConnectionString}"];

    /// <summary>A fresh, empty database of the given kind: a new SQLite file, or a new PostgreSQL database.</summary>
    public static async Task<StorageOptions> CreateAsync(Backend backend) => backend switch
    {
        Backend.Sqlite => new StorageOptions
        {
            Provider = StorageOptions.Sqlite,
            ConnectionString = $"Data Source={Path.Combine(Path.GetTempPath(), "prospect-events-tests", Guid.NewGuid().ToString("N"), "test.db")}",
        },
        _ => new StorageOptions { Provider = StorageOptions.Postgres, ConnectionString = await TestPostgres.CreateDatabaseAsync() },
    };
}
