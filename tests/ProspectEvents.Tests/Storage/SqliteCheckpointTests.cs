using Microsoft.Data.Sqlite;
using ProspectEvents.Detection;
using ProspectEvents.Server.Ingest;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Storage;

/// <summary>SQLite's WAL is copied into the database file in the background after an ingest batch, not by the writer inside its commit.</summary>
public sealed class SqliteCheckpointTests
{
    [Fact]
    public async Task AnIngestBatchReachesTheDatabaseFileShortlyAfterItsCommitWithoutWaitingForTheWalToFill()
    {
        var storage = await TestStorage.CreateAsync(Backend.Sqlite);
        await using var store = Store.Create(storage);
        await store.MigrateAsync(TimeProvider.System, CancellationToken.None);
        var observation = new Observation(Feed.Dana, DateTimeOffset.UtcNow, "Dana Levi", "VP Sales", null, "Acme", null, null, null);
        await new IngestEngine(store).ApplyBatchAsync(IngestBatch.Of([observation]), DateTimeOffset.UtcNow, CancellationToken.None);

        // A few pages written: far below any automatic checkpoint threshold, so only the background checkpoint copies them.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        (long Log, long Checkpointed) wal;
        do
        {
            await Task.Delay(50);
            wal = await WalFramesAsync(storage);
        }
        while (wal.Checkpointed < wal.Log && DateTime.UtcNow < deadline);

        Assert.True(wal.Log > 0, "Nothing was written to the WAL");
        Assert.Equal(wal.Log, wal.Checkpointed);
    }

    [Fact]
    public async Task AFailedCheckpointIsReportedAndTriedAgainAfterTheNextCommit()
    {
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        await using (var checkpointer = new SqliteCheckpointer(_ => throw new IOException("the disk is gone"), failures.Enqueue))
        {
            checkpointer.Committed();
            await WaitUntilAsync(() => failures.Count == 1);
            checkpointer.Committed();
            await WaitUntilAsync(() => failures.Count == 2);
        }
        Assert.All(failures, e => Assert.Equal("the disk is gone", e.Message));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.True(condition(), "The checkpointer did not report its failure within 10 s");
    }

    /// <summary>Frames in the WAL and frames already copied, as a checkpoint that copies nothing reports them.</summary>
    private static async Task<(long Log, long Checkpointed)> WalFramesAsync(StorageOptions storage)
    {
        await using var connection = new SqliteConnection(storage.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        // NOOP copies nothing: it only reports, so this probe cannot do the checkpoint it looks for. Before SQLite
        // 3.51 an unknown mode meant PASSIVE, which would copy the frames itself and let the test pass regardless.
        command.CommandText = "SELECT sqlite_version()";
        Assert.True(Version.Parse((string)(await command.ExecuteScalarAsync())!) >= new Version(3, 51), "PRAGMA wal_checkpoint(NOOP) needs SQLite 3.51+");
        command.CommandText = "PRAGMA wal_checkpoint(NOOP)";
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(1), reader.GetInt64(2));
    }
}
