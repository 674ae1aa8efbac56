using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using ProspectEvents.Server.Hosting;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Hosting;

/// <summary>
/// Several processes starting at once on an empty database create exactly one partner <c>default</c> with one admin
/// key between them, and exactly one of them prints it. Once per backend.
/// </summary>
public abstract class FirstStartContract(Backend backend)
{
    private const int Starts = 4;

    [Fact]
    public async Task ProcessesStartingAtOnceOnAnEmptyDatabaseCreateOneDefaultPartner()
    {
        var storage = await TestStorage.CreateAsync(backend);
        var apps = Enumerable.Range(0, Starts).Select(_ => ServerApp.Build(["--urls", "http://127.0.0.1:0", .. storage.Arguments(), "--Logging:LogLevel:Default=Warning"])).ToList();
        try
        {
            var printed = Enumerable.Range(0, Starts).Select(_ => new StringWriter()).ToList();
            using var go = new SemaphoreSlim(0);
            var starts = apps.Select((app, i) => Task.Run(async () =>
            {
                await go.WaitAsync();
                await app.PrepareAsync(printed[i], CancellationToken.None);
            })).ToList();
            go.Release(Starts);
            await Task.WhenAll(starts);

            Assert.Single(printed, p => ServerUnderTest.KeyPattern().IsMatch(p.ToString()));
            Assert.Equal(1L, await CountAsync(apps[0], "SELECT COUNT(*) FROM partners"));
            Assert.Equal(1L, await CountAsync(apps[0], "SELECT COUNT(*) FROM partners WHERE name = 'default'"));
            Assert.Equal(1L, await CountAsync(apps[0], "SELECT COUNT(*) FROM api_keys WHERE scope = 'admin'"));
        }
        finally
        {
            foreach (var app in apps) await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task ALaterStartOnADatabaseWithPartnersCreatesNoneAndPrintsNoKey()
    {
        await using var first = await ServerUnderTest.StartAsync(backend);
        await using var later = ServerApp.Build(["--urls", "http://127.0.0.1:0", .. first.Storage.Arguments(), "--Logging:LogLevel:Default=Warning"]);
        var printed = new StringWriter();

        await later.PrepareAsync(printed, CancellationToken.None);

        Assert.Equal("", printed.ToString());
        Assert.Equal(1L, await CountAsync(later, "SELECT COUNT(*) FROM partners WHERE name = 'default'"));
    }

    private static async Task<long> CountAsync(WebApplication app, string sql)
    {
        var store = app.Services.GetRequiredService<Store>();
        await using var connection = await store.OpenConnectionAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
}

public sealed class SqliteFirstStartTests() : FirstStartContract(Backend.Sqlite);

public sealed class PostgresFirstStartTests() : FirstStartContract(Backend.Postgres);
