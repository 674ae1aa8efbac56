using System.Text.Json;
using ProspectEvents.Server.Cli;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Cli;

/// <summary>The operator verbs, run against the same database as a running server, once per backend.</summary>
public abstract class VerbsContract(Backend backend) : IAsyncLifetime
{
    private ServerUnderTest _server = null!;

    public async Task InitializeAsync() => _server = await ServerUnderTest.StartAsync(backend);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await Verbs.RunAsync([.. args, .. _server.Storage.Arguments()], output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task PartnersCreatePrintsAPartnerIdAndAKeyTheRunningServerAccepts()
    {
        var (exitCode, output, _) = await RunAsync("partners", "create", "Globex");

        Assert.Equal(0, exitCode);
        using var printed = JsonDocument.Parse(output);
        Assert.Equal(["partner_id", "api_key"], printed.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Matches("^pa_[0-9a-f]{16}$", printed.RootElement.GetProperty("partner_id").GetString());
        Assert.Matches("^pek_[A-Za-z0-9_-]{43}$", printed.RootElement.GetProperty("api_key").GetString());
        using var client = _server.Client(printed.RootElement.GetProperty("api_key").GetString());
        await (await client.GetAsync(EnrollmentsPath)).ExpectAsync(200);
        await (await client.GetAsync("/v1/admin/stats")).ExpectAsync(403); // partner scope by default
    }

    [Fact]
    public async Task KeysCreateIssuesAKeyOfTheAskedScopeAndRevokeStopsItAtOnce()
    {
        var (_, partnerOutput, _) = await RunAsync("partners", "create", "Initech");
        var partnerId = JsonDocument.Parse(partnerOutput).RootElement.GetProperty("partner_id").GetString()!;

        var (exitCode, output, _) = await RunAsync("keys", "create", "--partner", partnerId, "--scope", "admin");

        Assert.Equal(0, exitCode);
        var key = JsonDocument.Parse(output).RootElement;
        Assert.Equal("admin", key.GetProperty("scope").GetString());
        Assert.Matches("^key_[0-9a-f]{16}$", key.GetProperty("key_id").GetString());
        using var client = _server.Client(key.GetProperty("api_key").GetString());
        await (await client.GetAsync("/v1/admin/stats")).ExpectAsync(200);

        var revoked = await RunAsync("keys", "revoke", key.GetProperty("key_id").GetString()!);

        Assert.Equal(0, revoked.ExitCode);
        await (await client.GetAsync(EnrollmentsPath)).ExpectAsync(401);
        Assert.Equal(1, (await RunAsync("keys", "revoke", key.GetProperty("key_id").GetString()!)).ExitCode);
    }

    [Fact]
    public async Task KeysCreateForAnUnknownPartnerFailsAndSaysWhy()
    {
        var (exitCode, output, error) = await RunAsync("keys", "create", "--partner", "pa_0000000000000000");

        Assert.Equal(1, exitCode);
        Assert.Equal("", output);
        Assert.Contains("pa_0000000000000000", error);
    }

    [Fact]
    public async Task KeysCreateRejectsAnUnknownScope()
    {
        var (exitCode, _, error) = await RunAsync("keys", "create", "--partner", "pa_0000000000000000", "--scope", "root");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("root", error);
    }

    [Fact]
    public async Task MigrateOnAnUpToDateDatabaseAppliesNothing()
    {
        var (exitCode, output, _) = await RunAsync("migrate");

        Assert.Equal(0, exitCode);
        var result = JsonDocument.Parse(output).RootElement;
        Assert.Equal(backend == Backend.Sqlite ? "sqlite" : "postgres", result.GetProperty("provider").GetString());
        Assert.Empty(result.GetProperty("applied").EnumerateArray());
    }

    [Fact]
    public async Task MigrateCreatesTheSchemaOnAnEmptyDatabaseAndConcurrentMigratorsDoNotCollide()
    {
        var fresh = await TestStorage.CreateAsync(backend);
        var outputs = Enumerable.Range(0, 3).Select(_ => new StringWriter()).ToArray();

        var exitCodes = await Task.WhenAll(outputs.Select(o => Verbs.RunAsync(["migrate", .. fresh.Arguments()], o, new StringWriter())));

        Assert.All(exitCodes, code => Assert.Equal(0, code));
        var applied = outputs.SelectMany(o => JsonDocument.Parse(o.ToString()).RootElement.GetProperty("applied").EnumerateArray().Select(a => a.GetString())).ToList();
        await using var store = ProspectEvents.Storage.Store.Create(fresh);
        Assert.Equal(store.Migrations().Select(m => m.Name), applied); // each applied exactly once, by one of them
    }
}

public sealed class SqliteVerbsTests() : VerbsContract(Backend.Sqlite);

public sealed class PostgresVerbsTests() : VerbsContract(Backend.Postgres);
