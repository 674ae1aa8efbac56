using System.Globalization;
using Microsoft.Data.Sqlite;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Storage;

/// <summary>
/// SQLite answers fetches from events_by_prospect_rows (migration 0011), whose key holds the first 30 bits of the
/// prospect id and the minute of the event: keys shared by prospects, full buckets and the rows stored before the
/// migration must not change an answer.
/// </summary>
public sealed class SqliteFetchRowsTests
{
    private static readonly string[] AllTypes = ["prospect_changed_company", "prospect_changed_role", "prospect_job_start_anniversary"];
    internal static readonly DateTimeOffset Time = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    // The same first 30 bits: the ids differ only in the low two bits of their fourth byte and after it.
    private const string Ann = "abcdef00" + "00000000000000000000000000000001";
    private const string Ben = "abcdef03" + "00000000000000000000000000000002";
    private const string Cy = "abcdef04" + "00000000000000000000000000000003";

    [Fact]
    public async Task ProspectsSharingAKeyPrefixEachGetTheirOwnEventsOnly()
    {
        var (store, file) = await OpenAsync();
        await using (store)
        {
            await InsertAsync(file, [(Ann, 0, 5), (Ben, 0, 7), (Cy, 0, 3)]);

            var ann = await FetchAsync(store, [Ann], Time.AddDays(-1), Time.AddDays(1));
            Assert.Equal(5, ann.Count);
            Assert.All(ann, e => Assert.Equal(Ann, e.ProspectId));
            Assert.Equal(8, (await FetchAsync(store, [Ann, Cy], Time.AddDays(-1), Time.AddDays(1))).Count);
            Assert.Equal(7, (await FetchAsync(store, [Ben], Time.AddDays(-1), Time.AddDays(1))).Count);
        }
    }

    [Fact]
    public async Task MoreEventsInOneMinuteThanABucketHoldsAreAllFoundAndNoneOutsideTheWindow()
    {
        var (store, file) = await OpenAsync();
        await using (store)
        {
            // 300 events within one minute of Ann and 300 of Ben (same prefix, same buckets), then one a day later each.
            await InsertAsync(file, [(Ann, 0, 300), (Ben, 0, 300)], stepMs: 100);
            await InsertAsync(file, [(Ann, 1000, 1), (Ben, 1000, 1)], atMs: Time.AddDays(1).ToUnixTimeMilliseconds());

            var minute = await FetchAsync(store, [Ann, Ben], Time, Time.AddMinutes(1));
            Assert.Equal(600, minute.Count);
            Assert.Equal(600, minute.Select(e => e.EventId).Distinct().Count());
            Assert.Equal(minute.OrderByDescending(e => e.EventTime).ThenBy(e => e.EventId, StringComparer.Ordinal).Select(e => e.EventId), minute.Select(e => e.EventId));
            Assert.Equal(2, (await FetchAsync(store, [Ann, Ben], Time.AddHours(1), Time.AddDays(2))).Count);
            Assert.Equal(301, (await FetchAsync(store, [Ann], Time, Time.AddDays(2))).Count);
            Assert.Empty(await FetchAsync(store, [Ann], Time.AddSeconds(31), Time.AddHours(1)));
        }
    }

    [Fact]
    public async Task AnIdAskedTwiceIsAnsweredOnce()
    {
        var (store, file) = await OpenAsync();
        await using (store)
        {
            await InsertAsync(file, [(Ann, 0, 2)]);

            Assert.Equal(2, (await FetchAsync(store, [Ann, Ann], Time.AddDays(-1), Time.AddDays(1))).Count);
        }
    }

    [Fact]
    public async Task FortyProspectsAskedInAnyOrderGetTheSameAnswerAsEachAskedAlone()
    {
        var (store, file) = await OpenAsync();
        await using (store)
        {
            // Ids spread over the key space and given in descending order, a few sharing a prefix with Ann.
            var ids = Enumerable.Range(0, 37).Select(i => ((uint)(i * 0x06e0_0000)).ToString("x8", CultureInfo.InvariantCulture) + $"{i:x32}")
                .Concat([Ann, Ben, Cy]).OrderDescending(StringComparer.Ordinal).ToArray();
            await InsertAsync(file, [.. ids.Select((id, i) => (id, 0, 1 + (i % 4)))], stepMs: 60_000);

            var together = await FetchAsync(store, ids, Time.AddDays(-1), Time.AddDays(1));
            var alone = new List<StoredEvent>();
            foreach (var id in ids) alone.AddRange(await FetchAsync(store, [id], Time.AddDays(-1), Time.AddDays(1)));

            Assert.Equal(ids.Select((_, i) => 1 + (i % 4)).Sum(), together.Count);
            Assert.Equal(alone.OrderBy(e => e.EventId, StringComparer.Ordinal).Select(e => (e.EventId, e.ProspectId)),
                together.OrderBy(e => e.EventId, StringComparer.Ordinal).Select(e => (e.EventId, e.ProspectId)));
            Assert.All(together, e => Assert.StartsWith(e.ProspectId[..8], e.EventId, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task TheMigrationCopiesTheEventsStoredBeforeItFullBucketsIncluded()
    {
        var (store, file) = await OpenAsync();
        await using (store)
        {
            // Back to the schema before 0011, events written there, then 0011's script run again, and 0017's after it.
            await SqlAsync(file, "DROP TABLE event_summary; DROP TRIGGER events_by_prospect_rows_insert; DROP VIEW events_by_prospect_feed; DROP TABLE events_by_prospect_rows; CREATE INDEX events_fetch ON events (prospect_id, event_time, event_name, event_id, data);");
            await InsertAsync(file, [(Ann, 0, 300), (Ben, 0, 4), (Cy, 0, 2)], stepMs: 100);
            await InsertAsync(file, [(Ann, 1000, 1)], atMs: Time.AddDays(1).ToUnixTimeMilliseconds());
            Assert.Equal(0L, await ScalarAsync(file, "SELECT count(*) FROM sqlite_master WHERE name = 'events_by_prospect_rows'"));
            await SqlAsync(file, store.Migrations().Single(m => m.Version == 11).Sql);
            await SqlAsync(file, store.Migrations().Single(m => m.Version == 17).Sql);
            await InsertAsync(file, [(Ann, 2000, 3)], atMs: Time.AddSeconds(10).ToUnixTimeMilliseconds()); // through the trigger, into full buckets

            Assert.Equal(310L, await ScalarAsync(file, "SELECT count(*) FROM events_by_prospect_rows"));
            Assert.Equal(304, (await FetchAsync(store, [Ann], Time, Time.AddDays(2))).Count);
            Assert.Equal(303, (await FetchAsync(store, [Ann], Time, Time.AddMinutes(1))).Count);
            Assert.Equal(6, (await FetchAsync(store, [Ben, Cy], Time, Time.AddDays(2))).Count);
        }
    }

    internal static async Task<(Store Store, string File)> OpenAsync()
    {
        var storage = await TestStorage.CreateAsync(Backend.Sqlite);
        var store = Store.Create(storage);
        await store.MigrateAsync(TimeProvider.System, CancellationToken.None);
        return (store, new SqliteConnectionStringBuilder(storage.ConnectionString).DataSource);
    }

    internal static Task<List<StoredEvent>> FetchAsync(Store store, string[] ids, DateTimeOffset from, DateTimeOffset to) =>
        store.FetchEventsAsync(ids, AllTypes, from, to, CancellationToken.None);

    /// <summary>
    /// Writes, for each (prospect, first, count), <c>count</c> events of that prospect numbered from <c>first</c>,
    /// <paramref name="stepMs"/> apart from <paramref name="atMs"/> (default: <see cref="Time"/>), through a connection
    /// of its own, as another process would.
    /// </summary>
    internal static async Task InsertAsync(string file, (string Prospect, int First, int Count)[] batches, long? atMs = null, long stepMs = 1000)
    {
        await using var connection = new SqliteConnection($"Data Source={file};Pooling=False");
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO events (event_id, event_name, prospect_id, event_time, observed_at, detected_at, data) " +
                              "VALUES (@id, 'prospect_changed_company', @prospect, @time, @time, @time, '{}')";
        var id = command.Parameters.Add("@id", SqliteType.Text);
        var prospect = command.Parameters.Add("@prospect", SqliteType.Blob);
        var time = command.Parameters.Add("@time", SqliteType.Integer);
        foreach (var (p, first, count) in batches)
        {
            for (var i = first; i < first + count; i++)
            {
                id.Value = p[..8] + i.ToString("x24", CultureInfo.InvariantCulture);
                prospect.Value = Convert.FromHexString(p);
                time.Value = (atMs ?? Time.ToUnixTimeMilliseconds()) + ((i - first) * stepMs);
                await command.ExecuteNonQueryAsync();
            }
        }
        await transaction.CommitAsync();
    }

    internal static async Task SqlAsync(string file, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={file};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    internal static async Task<long> ScalarAsync(string file, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={file};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
