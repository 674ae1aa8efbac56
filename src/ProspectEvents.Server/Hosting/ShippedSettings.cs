namespace ProspectEvents.Server.Hosting;

public static class ShippedSettings
{
    /// <summary>
    /// The appsettings.json shipped beside the executable, read first so that an appsettings.json in the working
    /// directory, environment variables (<c>Section__Key</c>) and <c>--Section:Key=value</c> arguments override it.
    /// </summary>
    public static IConfigurationBuilder AddShippedSettings(this IConfigurationBuilder configuration)
    {
        var shipped = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        if (Path.GetFullPath(shipped) != Path.GetFullPath("appsettings.json"))
        {
            var source = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource { Path = shipped, Optional = true };
            source.ResolveFileProvider();
            configuration.Sources.Insert(0, source);
        }
        return configuration;
    }
}
