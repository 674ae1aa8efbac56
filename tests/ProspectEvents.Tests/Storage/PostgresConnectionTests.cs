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

    [Fact]
    public async Task TheOperatorsOwnSettingsWin()
    {
        var settings = await SettingsAsync(await TestPostgres.CreateDatabaseAsync() + ";No Reset On Close=false;Max Auto Prepare=5");

        Assert.Equal(5, settings.MaxAutoPrepare);
        Assert.False(settings.NoResetOnClose);
    }
}
