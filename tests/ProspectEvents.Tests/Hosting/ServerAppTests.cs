using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using ProspectEvents.Server.Hosting;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Hosting;

public sealed class ServerAppTests
{
    [Fact]
    public async Task SettingsFilesAreNotWatchedSoDatabaseWritesDoNotWakeAWatcher()
    {
        await using var app = ServerApp.Build([]);

        var jsonSources = ((IConfigurationRoot)app.Configuration).Providers.OfType<JsonConfigurationProvider>().Select(p => p.Source).ToList();

        Assert.NotEmpty(jsonSources);
        Assert.All(jsonSources, source => Assert.False(source.ReloadOnChange, $"{source.Path} is watched"));
    }
}

public sealed class WebhookSettingsTests
{
    [Theory]
    [InlineData("Webhooks:RetrySchedule", "0s,5 minutes", "Webhooks:RetrySchedule")]
    [InlineData("Webhooks:Timeout", "00:00:00", "Webhooks:Timeout")]
    [InlineData("Webhooks:DisableAfter", "-1.00:00:00", "Webhooks:DisableAfter")]
    [InlineData("Webhooks:Concurrency", "0", "Webhooks:Concurrency")]
    public async Task AnInvalidWebhookSettingStopsTheServerFromStartingAndNamesTheKey(string key, string value, string named)
    {
        var database = Path.Combine(Path.GetTempPath(), "prospect-events-tests", Guid.NewGuid().ToString("N"), "test.db");
        await using var app = ServerApp.Build(["--urls", "http://127.0.0.1:0", $"--Storage:ConnectionString=Data Source={database}", $"--{key}={value}"]);

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => app.StartAsync());

        Assert.Contains(named, error.Message);
    }
}

/// <summary><c>serve</c> and every verb read their settings through one validated path: a bad value stops them with exit 2 and a message naming the key.</summary>
public sealed class SettingsPathTests
{
    public static TheoryData<string, string> BadSettings => new()
    {
        { "--Webhooks:RetrySchedule=0s,5 minutes", "Webhooks:RetrySchedule" },
        { "--Webhooks:Timeout=soon", "Webhooks:Timeout" },
        { "--Storage:Provider=mysql", "Storage:Provider" },
        { "--Storage:SqliteMmapSize=-1", "Storage:SqliteMmapSize" },
        { "--Ingest:CacheIdleTimeout=-00:01:00", "Ingest:CacheIdleTimeout" },
        { "--Telemetry:Prometheus=maybe", "Telemetry:Prometheus" },
        { "--Telemetry:PrometheusAccess=public", "Telemetry:PrometheusAccess" },
        { "--Telemetry:OutboxRefresh=-00:00:01", "Telemetry:OutboxRefresh" },
        { "--Roles=api,webhooks", "'webhooks', which is not a role; the roles are api, ingest, dispatcher, scheduler" },
        { "--Processes:HeartbeatInterval=00:00:00", "Processes:HeartbeatInterval" },
    };

    private static string Database() => $"--Storage:ConnectionString=Data Source={Path.Combine(Path.GetTempPath(), "prospect-events-tests", Guid.NewGuid().ToString("N"), "test.db")}";

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task ABadSettingStopsServeWithExitTwoAndNamesTheKey(string setting, string key)
    {
        var (exit, _, error) = await ServerUnderTest.RunVerbAsync(["serve", "--urls", "http://127.0.0.1:0", Database(), setting]);

        Assert.Equal(2, exit);
        Assert.Contains(key, error);
    }

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task ABadSettingStopsTheMigrateVerbWithExitTwoAndNamesTheKey(string setting, string key)
    {
        var (exit, _, error) = await ServerUnderTest.RunVerbAsync(["migrate", Database(), setting]);

        Assert.Equal(2, exit);
        Assert.Contains(key, error);
        Assert.DoesNotContain("   at ", error); // a message, not a stack trace
    }

    [Fact]
    public async Task ABadRetryScheduleStopsThePartnersVerbBeforeItWritesAnything()
    {
        var database = Database();

        var (exit, summary, error) = await ServerUnderTest.RunVerbAsync(["partners", "create", "acme", database, "--Webhooks:RetrySchedule=never"]);

        Assert.Equal(2, exit);
        Assert.Null(summary);
        Assert.Contains("Webhooks:RetrySchedule", error);
        Assert.False(File.Exists(database.Split('=', 2)[1].Replace("Data Source=", "", StringComparison.Ordinal)), "the database was created");
    }
}
