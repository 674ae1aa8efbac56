using Microsoft.Extensions.Options;
using ProspectEvents.Server.Anniversaries;
using ProspectEvents.Server.Auth;
using ProspectEvents.Server.Events;
using ProspectEvents.Server.Ingest;
using ProspectEvents.Server.Telemetry;
using ProspectEvents.Server.Webhooks;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Hosting;

/// <summary>A setting that cannot be used; the message names its key and what it accepts.</summary>
public sealed class InvalidSettingsException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Every section of the configuration, each validated.</summary>
public sealed record ValidSettings(StorageOptions Storage, WebhookOptions Webhooks, IngestOptions Ingest, RateLimitingOptions RateLimiting, AnniversaryOptions Anniversaries,
    TelemetryOptions Telemetry, ProcessOptions Processes, Roles Roles, EventOptions Events);

/// <summary>
/// Every configuration section the server and the verbs read, bound and validated in one place: <c>serve</c> checks
/// them on start, a verb when it reads them (<see cref="Read"/>), with the same rules and messages.
/// </summary>
public static class Settings
{
    public static IServiceCollection AddSettings(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section)
            .Validate(o => o.Provider is StorageOptions.Sqlite or StorageOptions.Postgres, "Storage:Provider must be 'sqlite' or 'postgres'.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.ConnectionString), "Storage:ConnectionString is required.")
            .Validate(o => o.SqliteMmapSize >= 0, "Storage:SqliteMmapSize must be 0 (no mapping) or a number of bytes.")
            .ValidateOnStart();
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section)
            .Validate(o => RetrySchedule.TryParse(o.RetrySchedule, out _, out _), "Webhooks:RetrySchedule must be a comma list of durations such as 0s,5s,5m,30m,2h,5h,10h,10h.")
            .Validate(o => o.Timeout > TimeSpan.Zero, "Webhooks:Timeout must be positive, e.g. 00:00:15.")
            .Validate(o => o.DisableAfter > TimeSpan.Zero, "Webhooks:DisableAfter must be positive, e.g. 5.00:00:00.")
            .Validate(o => o.Concurrency > 0, "Webhooks:Concurrency must be positive.")
            .Validate(o => o.RotationOverlap >= TimeSpan.Zero, "Webhooks:RotationOverlap must be zero or positive, e.g. 1.00:00:00.")
            .ValidateOnStart();
        services.AddOptions<IngestOptions>().BindConfiguration(IngestOptions.Section)
            .Validate(o => o.MaxLineBytes > 0, "Ingest:MaxLineBytes must be a positive number of bytes (default 1048576).")
            .Validate(o => o.CacheIdleTimeout >= TimeSpan.Zero, "Ingest:CacheIdleTimeout must be a duration such as 00:10:00, or 00:00:00 to keep the cache.")
            .ValidateOnStart();
        services.AddOptions<RateLimitingOptions>().BindConfiguration(RateLimitingOptions.Section)
            .Validate(o => o.PermitsPerWindow > 0 && o.FailedAuthPermitsPerWindow > 0 && o.Window > TimeSpan.Zero,
                "RateLimiting:PermitsPerWindow, RateLimiting:FailedAuthPermitsPerWindow and RateLimiting:Window must be positive.")
            .ValidateOnStart();
        services.AddOptions<AnniversaryOptions>().BindConfiguration(AnniversaryOptions.Section)
            .Validate(o => o.RunAtUtc >= TimeSpan.Zero && o.RunAtUtc < TimeSpan.FromDays(1), "Anniversaries:RunAtUtc must be a time of day, e.g. 00:05:00.")
            .ValidateOnStart();
        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section)
            .Validate(o => o.PrometheusAccess is TelemetryOptions.Open or TelemetryOptions.Admin, "Telemetry:PrometheusAccess must be 'open' or 'admin'.")
            .Validate(o => o.OutboxRefresh >= TimeSpan.Zero, "Telemetry:OutboxRefresh must be a duration such as 00:00:05, or 00:00:00 to read the store at every collection.")
            .ValidateOnStart();
        services.AddOptions<ProcessOptions>().BindConfiguration(ProcessOptions.Section)
            .Validate(o => o.HeartbeatInterval > TimeSpan.Zero, "Processes:HeartbeatInterval must be positive, e.g. 00:00:05.")
            .ValidateOnStart();
        services.AddOptions<EventOptions>().BindConfiguration(EventOptions.Section)
            .Validate(o => o.RetentionDays is >= 0 and <= EventOptions.MaxRetentionDays,
                $"Events:RetentionDays must be a whole number of days from 1 to {EventOptions.MaxRetentionDays}, or 0 to keep events for good.")
            .ValidateOnStart();
        return services;
    }

    /// <summary>
    /// Every section as <c>serve</c> would read it, so a verb with a bad setting refuses to run whichever sections it
    /// uses; <see cref="InvalidSettingsException"/> naming the key when one cannot be used.
    /// </summary>
    public static ValidSettings Read(IConfiguration configuration)
    {
        using var provider = new ServiceCollection().AddSingleton(configuration).AddSettings().BuildServiceProvider();
        try
        {
            return new ValidSettings(Value<StorageOptions>(provider), Value<WebhookOptions>(provider), Value<IngestOptions>(provider),
                Value<RateLimitingOptions>(provider), Value<AnniversaryOptions>(provider), Value<TelemetryOptions>(provider), Value<ProcessOptions>(provider),
                Roles.From(configuration), Value<EventOptions>(provider));
        }
        catch (OptionsValidationException e)
        {
            throw new InvalidSettingsException(string.Join(" ", e.Failures), e);
        }
        catch (InvalidOperationException e) // a value the binder cannot convert; its message names the key
        {
            throw new InvalidSettingsException(e.Message, e);
        }
    }

    private static T Value<T>(IServiceProvider provider) where T : class => provider.GetRequiredService<IOptions<T>>().Value;
}
