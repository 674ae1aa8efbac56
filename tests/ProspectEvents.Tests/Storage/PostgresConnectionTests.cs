using Npgsql;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Storage;

/// <summary>The defaults the PostgreSQL store adds to the operator's connection string, and that the operator's own settings win.</summary>
public sealed class PostgresConnectionTests
{
    private static async Task<NpgsqlConnectionStringBuilder> SettingsAsync(string connectionString)
    {
        await using var store = Store.Create(new StorageOptions { Provider = StorageOptions.Postgres, ConnectionString = connectionString });
        await using var connection = (NpgsqlConnection)await store.OpenConnectionAsync(CancellationToken.None);
        return new NpgsqlConnectionStringBuilder(connection.ConnectionString);
    }

    [Fact]
    public async Task ConnectionsKeepStatementsPreparedAndSkipTheSessionResetByDefault()
    {
        var settings = await SettingsAsync(await TestPostgres.CreateDatabaseAsync());

        Assert.Equal(64, settings.MaxAutoPrepare);
        Assert.True(settings.NoResetOnClose);
    }

    /// <summary>A statement PostgreSQL refuses (here a NUL, which no text column holds) must not leave its pooled connection unusable.</summary>
    [Theory]
    [InlineData(0)] [InlineData(1)] [InlineData(3)] [InlineData(4)] [InlineData(5)] [InlineData(10)]
    public async Task AStatementTheDatabaseRefusedLeavesNoBrokenConnectionInThePool(int usesBefore)
    {
        await using var store = Store.Create(new StorageOptions { Provider = StorageOptions.Postgres, ConnectionString = await TestPostgres.CreateDatabaseAsync() });
        await store.MigrateAsync(TimeProvider.System, CancellationToken.None);
        var key = await store.CreatePartnerAsync("acme", KeyScope.Partner, DateTimeOffset.UtcNow, CancellationToken.None);
        // Npgsql prepares a statement once it has been used a few times: refused before, while or after it is.
        for (var i = 0; i < usesBefore; i++) Assert.False(await store.DeleteEnrollmentAsync(key.PartnerId, "en_0123456789abcdef", CancellationToken.None));
        for (var i = 0; i < 3; i++)
            await Assert.ThrowsAsync<PostgresException>(() => store.DeleteEnrollmentAsync(key.PartnerId, "en_\0" + i, CancellationToken.None));

        // Deleting one that exists returns a row: on a connection left confused, that row was read as another's reply.
        for (var i = 0; i < 8; i++)
        {
            var request = new EnrollmentRequest($"key-{i}", EventTypes.ProspectChangedRole, ["20ae6cbf564ee683e66685e429844a5ff8ffc30f"], null);
            var enrollmentId = await store.UpsertEnrollmentAsync(key.PartnerId, request, DateTimeOffset.UtcNow, CancellationToken.None);
            Assert.True(await store.DeleteEnrollmentAsync(key.PartnerId, enrollmentId, CancellationToken.None));
            Assert.False(await store.DeleteEnrollmentAsync(key.PartnerId, enrollmentId, CancellationToken.None));
        }
    }

    [Fact]
    public async Task TheOperatorsOwnSettingsWin()
    {
        var settings = await SettingsAsync(await TestPostgres.CreateDatabaseAsync() + ";No Reset On Close=false;Max Auto Prepare=5");

        Assert.Equal(5, settings.MaxAutoPrepare);
        Assert.False(settings.NoResetOnClose);
    }
}
