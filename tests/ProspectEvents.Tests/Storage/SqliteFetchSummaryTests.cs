using ProspectEvents.Storage;
using static ProspectEvents.Tests.Storage.SqliteFetchRowsTests;

namespace ProspectEvents.Tests.Storage;

/// <summary>
/// SQLite fetches skip the prospects whose slot in event_summary (migration 0017) holds nothing from the window's first
/// minute on. The summary is held in memory, so it must never hide an event: not one written by another process since
/// the last fetch, not one of a prospect sharing a slot, not one stored before the migration.
/// </summary>
public sealed class SqliteFetchSummaryTests
{
    // The same first 22 bits (one slot), different prospects.
    private const string Dee = "abcdef00" + "00000000000000000000000000000011";
    private const string Eve = "abcdeff0" + "00000000000000000000000000000012";

    [Fact]
    public async Task AnEventWrittenByAnotherProcessAfterAFetchThatFoundNothingIsFoundByTheNextFetch()
    {
        var (store, file) = await OpenAsync();
        await using (store)
        {
            await InsertAsync(file, [(Dee, 0, 1)]);
            Assert.Empty(await FetchAsync(store, [Dee], Time.AddDays(1), Time.AddDays(3)));

            await InsertAsync(file, [(Dee, 1, 1)], atMs: Time.AddDays(2).ToUnixTimeMilliseconds());

            var found = Assert.Single(await FetchAsync(store, [Dee], Time.AddDays(1), Time.AddDays(3)));
            Assert.Equal(Time.AddDays(2), found.EventTime);
        }
    }

    [Fact]
    public async Task AProspectSharingASlotWithOneWithRecentEventsStillGetsOnlyItsOwn()
    {
        var (store, file) = await OpenAsync();
        await using (store)
        {
            await InsertAsync(file, [(Dee, 0, 1)]);
            await InsertAsync(file, [(Eve, 0, 1)], atMs: Time.AddDays(2).ToUnixTimeMilliseconds());

            Assert.Empty(await FetchAsync(store, [Dee], Time.AddDays(1), Time.AddDays(3)));
            Assert.Single(await FetchAsync(store, [Eve], Time.AddDays(1), Time.AddDays(3)));
            Assert.Single(await FetchAsync(store, [Dee], Time.AddMinutes(-1), Time.AddMinutes(1)));
        }
    }

    [Fact]
    public async Task AnEventInTheWindowsFirstMinuteIsFound()
    {
        var (store, file) = await OpenAsync();
        await using (store)
        {
            await InsertAsync(file, [(Dee, 0, 1)], atMs: Time.AddSeconds(59).ToUnixTimeMilliseconds());

            Assert.Single(await FetchAsync(store, [Dee], Time.AddSeconds(30), Time.AddMinutes(5)));
            Assert.Empty(await FetchAsync(store, [Dee], Time.AddMinutes(1), Time.AddMinutes(5)));
        }
    }

    [Fact]
    public async Task TheMigrationSummarizesTheEventsStoredBeforeIt()
    {
        var (store, file) = await OpenAsync();
        await using (store)
        {
            await SqlAsync(file, "DROP TRIGGER event_summary_insert; DROP TABLE event_summary");
            await InsertAsync(file, [(Dee, 0, 2), (Eve, 0, 1)], atMs: Time.AddDays(2).ToUnixTimeMilliseconds());
            await SqlAsync(file, store.Migrations().Single(m => m.Version == 17).Sql);

            Assert.Equal(3, (await FetchAsync(store, [Dee, Eve], Time.AddDays(1), Time.AddDays(3))).Count);
            Assert.Equal(1L, await ScalarAsync(file, "SELECT count(*) FROM event_summary"));
        }
    }

    [Fact]
    public async Task FetchesRacingWritesOfAnotherProcessNeverMissACommittedEvent()
    {
        var (store, file) = await OpenAsync();
        await using (store)
        {
            using var stop = new CancellationTokenSource();
            // Fetches on other threads keep catching the summary up, so the checked ones also meet it mid-fold.
            var noise = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested) await FetchAsync(store, [Dee, Eve], Time, Time.AddDays(400));
            })).ToArray();
            for (var i = 0; i < 60; i++)
            {
                var prospect = $"{(uint)(i * 0x0400_0000 + 0x0123_4567):x8}{i:x32}";
                var at = Time.AddDays(i + 1);
                await InsertAsync(file, [(prospect, 0, 1)], atMs: at.ToUnixTimeMilliseconds());
                var found = Assert.Single(await FetchAsync(store, [prospect, Dee], at, at.AddDays(1)));
                Assert.Equal(prospect, found.ProspectId);
            }
            await stop.CancelAsync();
            await Task.WhenAll(noise);
        }
    }
}
