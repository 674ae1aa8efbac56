using System.Globalization;
using Microsoft.Data.Sqlite;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Storage;

/// <summary>SQLite answers event fetches from connections that map the database file (<c>Storage:SqliteMmapSize</c>).</summary>
public sealed class SqliteMappedFetchTests
{
    private static readonly string[] AllTypes = ["prospect_changed_company", "prospect_changed_role", "prospect_job_start_anniversary"];
    private static readonly DateTimeOffset Time = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string Prospect = Feed.Id(1)[..40];

    [Fact]
    public async Task AFetchReadsThroughAMappingOfTheDatabaseFile()
    {
        var (store, file) = await OpenAsync(StorageOptions.DefaultSqliteMmapSize);
        await using (store)
        {
            await InsertAsync(file, 0, 1);

            Assert.Single(await FetchAsync(store));
            Assert.True(IsMapped(file), $"{file} is not mapped after a fetch");
        }
    }

    [Fact]
    public async Task WithAMmapSizeOfZeroNoConnectionMapsTheFile()
    {
        var (store, file) = await OpenAsync(0);
        await using (store)
        {
            await InsertAsync(file, 0, 1);

            Assert.Single(await FetchAsync(store));
            Assert.False(IsMapped(file), $"{file} is mapped though Storage:SqliteMmapSize is 0");
        }
    }

    [Fact]
    public async Task AMappedReaderSeesEventsWrittenAfterItsMappingWasMadeAsTheFileGrows()
    {
        var (store, file) = await OpenAsync(StorageOptions.DefaultSqliteMmapSize);
        await using (store)
        {
            await InsertAsync(file, 0, 1);
            Assert.Single(await FetchAsync(store));
            var before = new FileInfo(file).Length;

            await InsertAsync(file, 1, 3000);

            Assert.Equal(3001, (await FetchAsync(store)).Count);
            Assert.True(new FileInfo(file).Length > 4 * before, "the file did not grow past its first mapping");
        }
    }

    private static async Task<(Store Store, string File)> OpenAsync(long mmapSize)
    {
        var storage = await TestStorage.CreateAsync(Backend.Sqlite);
        storage.SqliteMmapSize = mmapSize;
        var store = Store.Create(storage);
        await store.MigrateAsync(TimeProvider.System, CancellationToken.None);
        return (store, new SqliteConnectionStringBuilder(storage.ConnectionString).DataSource);
    }

    private static Task<List<StoredEvent>> FetchAsync(Store store) =>
        store.FetchEventsAsync([Prospect], AllTypes, Time.AddDays(-1), Time.AddYears(1), CancellationToken.None);

    /// <summary>
    /// Writes <paramref name="count"/> events of one prospect, each with ~1 KiB of data, through a connection of its own,
    /// and checkpoints them into the database file: pages still in the WAL are read from it, never through the mapping.
    /// </summary>
    private static async Task InsertAsync(string file, int first, int count)
    {
        await using var connection = new SqliteConnection($"Data Source={file};Pooling=False");
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO events (event_id, event_name, prospect_id, event_time, observed_at, detected_at, data) " +
                              $"VALUES (@id, 'prospect_changed_company', x'{Prospect}', @time, @time, @time, @data)";
        var id = command.Parameters.Add("@id", SqliteType.Text);
        var time = command.Parameters.Add("@time", SqliteType.Integer);
        command.Parameters.AddWithValue("@data", $"{{\"padding\":\"{new string('x', 1000)}\"}}");
        for (var i = first; i < first + count; i++)
        {
            id.Value = i.ToString("x32", CultureInfo.InvariantCulture);
            time.Value = Time.AddSeconds(i).ToUnixTimeMilliseconds();
            await command.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
        await using var checkpoint = connection.CreateCommand();
        checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        await checkpoint.ExecuteNonQueryAsync();
    }

    private static bool IsMapped(string file) =>
        File.ReadLines("/proc/self/maps").Any(line => line.EndsWith(" " + Path.GetFullPath(file), StringComparison.Ordinal));
}
