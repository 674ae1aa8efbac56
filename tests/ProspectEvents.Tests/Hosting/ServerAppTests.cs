using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using ProspectEvents.Server.Hosting;

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

public sealed class StorageSettingsTests
{
    [Fact]
    public async Task ANegativeSqliteMmapSizeStopsTheServerFromStartingAndNamesTheKey()
    {
        var database = Path.Combine(Path.GetTempPath(), "prospect-events-tests", Guid.NewGuid().ToString("N"), "test.db");
        await using var app = ServerApp.Build(["--urls", "http://127.0.0.1:0", $"--Storage:ConnectionString=Data Source={database}", "--Storage:SqliteMmapSize=-1"]);

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Storage:SqliteMmapSize", error.Message);
    }
}
