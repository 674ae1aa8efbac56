using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Storage;

/// <summary>
/// The server sets SQLite's threading mode before its first connection (SqliteNative.ConfigureLibrary). Only a
/// process of its own shows it: in this test process other tests open SQLite first, and the mode is then fixed.
/// </summary>
public sealed class SqliteLibraryModeTests
{
    [Fact]
    public async Task TheServerRunsSqliteInMultiThreadMode()
    {
        var directory = Directory.CreateTempSubdirectory("prospect-events-sqlite-mode");
        try
        {
            var storage = new StorageOptions { Provider = StorageOptions.Sqlite, ConnectionString = $"Data Source={Path.Combine(directory.FullName, "events.db")}" };
            await using var server = await ServerProcess.StartAsync(storage, new Dictionary<string, string?> { ["Logging:LogLevel:ProspectEvents.Storage"] = "Debug" });
            var line = await server.WaitForOutputAsync(l => l.Contains("SQLite 3.", StringComparison.Ordinal), TimeSpan.FromMinutes(1));
            Assert.EndsWith("in multi-thread mode", line.Trim());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
