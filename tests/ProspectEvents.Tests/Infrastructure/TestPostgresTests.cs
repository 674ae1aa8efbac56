using Npgsql;

namespace ProspectEvents.Tests.Infrastructure;

public class TestPostgresTests
{
    [Fact]
    public async Task EachCallGivesAnEmptyDatabaseOfItsOwn()
    {
        var first = await TestPostgres.CreateDatabaseAsync();
        var second = await TestPostgres.CreateDatabaseAsync();

        Assert.NotEqual(new NpgsqlConnectionStringBuilder(first).Database, new NpgsqlConnectionStringBuilder(second).Database);
        Assert.Equal(0L, await CountTablesAsync(first));
        Assert.Equal(0L, await CountTablesAsync(second));

        await ExecuteAsync(first, "CREATE TABLE marker (id int PRIMARY KEY)");

        Assert.Equal(1L, await CountTablesAsync(first));
        Assert.Equal(0L, await CountTablesAsync(second));
    }

    [Fact]
    public async Task ParallelCallsGetDistinctDatabasesOnOneServer()
    {
        var connectionStrings = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => TestPostgres.CreateDatabaseAsync()));
        var builders = connectionStrings.Select(connectionString => new NpgsqlConnectionStringBuilder(connectionString)).ToList();

        Assert.Equal(builders.Count, builders.Select(builder => builder.Database).Distinct().Count());
        Assert.Single(builders.Select(builder => (builder.Host, builder.Port)).Distinct());
        Assert.All(builders, builder => Assert.Equal(20, builder.MaxPoolSize));
        foreach (var connectionString in connectionStrings)
        {
            Assert.Equal(0L, await CountTablesAsync(connectionString));
        }
    }

    private static async Task<long> CountTablesAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
