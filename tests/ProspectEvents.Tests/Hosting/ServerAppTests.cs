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
