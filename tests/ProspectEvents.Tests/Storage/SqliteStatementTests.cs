using Microsoft.Data.Sqlite;
using ProspectEvents.Detection;
using ProspectEvents.Server.Ingest;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Storage;

/// <summary>The statements ingest binds by position on SQLite (<see cref="SqliteStatement"/>).</summary>
public sealed class SqliteStatementTests : IAsyncLifetime
{
    private readonly SqliteConnection _connection = new("Data Source=:memory:");

    public async Task InitializeAsync()
    {
        await _connection.OpenAsync();
        await using var create = new SqliteCommand("CREATE TABLE t (k INTEGER PRIMARY KEY, b BLOB, s TEXT)", _connection);
        await create.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync() => await _connection.DisposeAsync();

    [Fact]
    public async Task ValuesBoundByPositionReadBackAsMicrosoftDataSqliteBindsThem()
    {
        using (var insert = new SqliteStatement(_connection, "INSERT INTO t (k, b, s) VALUES (?1, ?2, ?3)"))
        {
            insert.Bind(1, long.MaxValue);
            insert.Bind(2, [0x00, 0xff, 0x10]);
            insert.Bind(3, "Zoë Łukasz 🚀");
            insert.Execute();
            insert.Bind(1, 2);
            insert.Bind(2, []);
            insert.Bind(3, (string?)null);
            insert.Execute();
        }

        await using var select = new SqliteCommand("SELECT k, b, s, typeof(b), typeof(s) FROM t ORDER BY k", _connection);
        await using var reader = await select.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(2, reader.GetInt64(0));
        Assert.Equal("null", reader.GetString(4)); // a null text is NULL, not ''
        Assert.True(await reader.ReadAsync());
        Assert.Equal(long.MaxValue, reader.GetInt64(0));
        Assert.Equal(new byte[] { 0x00, 0xff, 0x10 }, reader.GetFieldValue<byte[]>(1));
        Assert.Equal("Zoë Łukasz 🚀", reader.GetString(2));
        Assert.Equal(["blob", "text"], [reader.GetString(3), reader.GetString(4)]);
    }

    [Fact]
    public async Task AFailedExecutionThrowsSqlitesErrorAndTheStatementRunsAgainAfterIt()
    {
        using var insert = new SqliteStatement(_connection, "INSERT INTO t (k) VALUES (?1)");
        insert.Bind(1, 1);
        insert.Execute();

        var error = Assert.Throws<SqliteException>(insert.Execute); // the same key again
        Assert.Equal(19, error.SqliteErrorCode); // SQLITE_CONSTRAINT
        Assert.Contains("UNIQUE", error.Message, StringComparison.Ordinal);

        insert.Bind(1, 2);
        insert.Execute();
        await using var count = new SqliteCommand("SELECT COUNT(*) FROM t", _connection);
        Assert.Equal(2L, await count.ExecuteScalarAsync());
    }

    [Fact]
    public void EmptyValuesBindAsEmptyNotNullAndReadBackEmpty()
    {
        using (var insert = new SqliteStatement(_connection, "INSERT INTO t (k, b, s) VALUES (?1, ?2, ?3)"))
        {
            insert.Bind(1, 1);
            insert.Bind(2, ReadOnlySpan<byte>.Empty);
            insert.Bind(3, "");
            insert.Execute();
        }

        using var select = new SqliteStatement(_connection, "SELECT b, s, typeof(b), typeof(s), k FROM t");
        Assert.True(select.Step());
        Assert.True(select.Bytes(0).IsEmpty);
        Assert.True(select.Bytes(1).IsEmpty);
        Assert.Equal("blob", System.Text.Encoding.UTF8.GetString(select.Bytes(2)));
        Assert.Equal("text", System.Text.Encoding.UTF8.GetString(select.Bytes(3)));
        Assert.Equal(1, select.Int64(4));
        Assert.False(select.Step());
    }

    [Fact]
    public void AStatementThatReturnsRowsIsRefused()
    {
        using var select = new SqliteStatement(_connection, "SELECT 1");
        Assert.Contains("returned rows", Assert.Throws<SqliteException>(select.Execute).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidSqlIsRefusedWhenPrepared() =>
        Assert.Throws<SqliteException>(() => new SqliteStatement(_connection, "INSERT INTO missing VALUES (?1)"));

    [Fact]
    public async Task DisposingTheStoreReleasesTheDatabaseFileAfterIngestPreparedItsStatements()
    {
        var storage = await TestStorage.CreateAsync(Backend.Sqlite);
        var path = new SqliteConnectionStringBuilder(storage.ConnectionString).DataSource;
        await using (var store = Store.Create(storage))
        {
            await store.MigrateAsync(TimeProvider.System, CancellationToken.None);
            var observation = new Observation(Feed.Dana, DateTimeOffset.UtcNow, "Dana Levi", "VP Sales", null, "Acme", null, null, null);
            await new IngestEngine(store).ApplyBatchAsync(IngestBatch.Of([observation]), DateTimeOffset.UtcNow, CancellationToken.None);
            Assert.Contains(Path.GetFullPath(path), OpenFiles());
        }

        // SQLite keeps a connection (and its file) open while any statement of it is not finalized.
        Assert.DoesNotContain(Path.GetFullPath(path), OpenFiles());
    }

    private static List<string> OpenFiles() =>
        [.. new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos().Select(fd => fd.LinkTarget).OfType<string>()];
}
