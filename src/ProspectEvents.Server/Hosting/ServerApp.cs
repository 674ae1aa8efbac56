using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ProspectEvents.Server.Admin;
using ProspectEvents.Server.Anniversaries;
using ProspectEvents.Server.Auth;
using ProspectEvents.Server.Enrollments;
using ProspectEvents.Server.Events;
using ProspectEvents.Server.Fanout;
using ProspectEvents.Server.Http;
using ProspectEvents.Server.Ingest;
using ProspectEvents.Server.Webhooks;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Hosting;

/// <summary>Builds the web application: the one place that lists every part of the server.</summary>
public static class ServerApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // No watching for appsettings.json changes: the watcher covers the working directory recursively, and the
        // SQLite files live below it, so every write woke it (measured: +10–20 % enrollment throughput without it).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [.. args, "--hostBuilder:reloadConfigOnChange=false"] });
        builder.Configuration.AddShippedSettings();
        builder.AddStorage();
        builder.AddPartnerApi();
        builder.AddApiDocs();
        configure?.Invoke(builder);
        builder.AddAnniversaries(); // after configure: these read Roles, which tests may set
        builder.AddFanout();
        builder.AddWebhooks();

        var app = builder.Build();
        app.UseMiddleware<CorrelationMiddleware>();
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = WriteUnhandledError,
            // What Kestrel found wrong with a request (a stalled or cut-off body) is the client's doing, not a bug of ours.
            SuppressDiagnosticsCallback = context => IsClientFault(context.Exception, context.HttpContext),
        });
        app.MapHealth();
        app.MapEnrollments();
        app.MapEvents();
        app.MapWebhooks();
        app.MapAdmin();
        app.MapApiDocs();
        return app;
    }

    public static WebApplicationBuilder AddStorage(this WebApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section)
            .Validate(o => o.Provider is StorageOptions.Sqlite or StorageOptions.Postgres, "Storage:Provider must be 'sqlite' or 'postgres'.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.ConnectionString), "Storage:ConnectionString is required.")
            .Validate(o => o.SqliteMmapSize >= 0, "Storage:SqliteMmapSize must be 0 (no mapping) or a number of bytes.")
            .ValidateOnStart();
        builder.Services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section)
            .Validate(o => RetrySchedule.TryParse(o.RetrySchedule, out _, out _), "Webhooks:RetrySchedule must be a comma list of durations such as 0s,5s,5m,30m,2h,5h,10h,10h.")
            .Validate(o => o.Timeout > TimeSpan.Zero, "Webhooks:Timeout must be positive, e.g. 00:00:15.")
            .Validate(o => o.DisableAfter > TimeSpan.Zero, "Webhooks:DisableAfter must be positive, e.g. 5.00:00:00.")
            .Validate(o => o.Concurrency > 0, "Webhooks:Concurrency must be positive.")
            .ValidateOnStart();
        builder.Services.AddOptions<IngestOptions>().BindConfiguration(IngestOptions.Section)
            .Validate(o => o.MaxLineBytes > 0, "Ingest:MaxLineBytes must be a positive number of bytes (default 1048576).")
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => CreateStore(sp.GetRequiredService<IOptions<StorageOptions>>().Value, sp.GetRequiredService<IOptions<WebhookOptions>>().Value,
            sp.GetRequiredService<ILogger<Store>>()));
        // One per process, beside the store: its cache serves every ingest, from the HTTP endpoint and the workers alike.
        builder.Services.AddSingleton(sp => new IngestEngine(sp.GetRequiredService<Store>(), sp.GetRequiredService<ILogger<IngestEngine>>()));
        return builder;
    }

    /// <summary>The store, told when the deliveries of the events it writes (ingest, the anniversary sweep) are first due.</summary>
    public static Store CreateStore(StorageOptions storage, WebhookOptions webhooks, ILogger? logger = null)
    {
        var store = Store.Create(storage, logger);
        store.FirstDeliveryDelay = webhooks.Schedule.Delays[0];
        return store;
    }

    public static WebApplicationBuilder AddPartnerApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitingOptions>().BindConfiguration(RateLimitingOptions.Section)
            .Validate(o => o.PermitsPerWindow > 0 && o.FailedAuthPermitsPerWindow > 0 && o.Window > TimeSpan.Zero,
                "RateLimiting:PermitsPerWindow, RateLimiting:FailedAuthPermitsPerWindow and RateLimiting:Window must be positive.")
            .ValidateOnStart();
        builder.Services.AddSingleton<KeyRateLimiter>();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            // Messages quote values ('prospect_changed_role'); there is no HTML context to escape them for.
            o.SerializerOptions.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
        });
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = RequestBody.MaxBytes);
        return builder;
    }

    public static WebApplicationBuilder AddAnniversaries(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AnniversaryOptions>().BindConfiguration(AnniversaryOptions.Section)
            .Validate(o => o.RunAtUtc >= TimeSpan.Zero && o.RunAtUtc < TimeSpan.FromDays(1), "Anniversaries:RunAtUtc must be a time of day, e.g. 00:05:00.")
            .ValidateOnStart();
        builder.Services.AddSingleton<AnniversaryScheduler>();
        if (Roles.Has(builder.Configuration, Roles.Scheduler)) builder.Services.AddHostedService(sp => sp.GetRequiredService<AnniversaryScheduler>());
        return builder;
    }

    public static WebApplicationBuilder AddFanout(this WebApplicationBuilder builder)
    {
        if (Roles.Has(builder.Configuration, Roles.Scheduler)) builder.Services.AddHostedService<EnrollmentIndexer>();
        return builder;
    }

    public static WebApplicationBuilder AddWebhooks(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<WebhookSender>();
        if (Roles.Has(builder.Configuration, Roles.Dispatcher)) builder.Services.AddHostedService<DeliveryDispatcher>();
        return builder;
    }

    /// <summary>Applies migrations and, on an empty database, creates partner <c>default</c> with an admin key, printed once.</summary>
    public static async Task PrepareAsync(this WebApplication app, TextWriter output, CancellationToken cancellationToken)
    {
        var store = app.Services.GetRequiredService<Store>();
        var clock = app.Services.GetRequiredService<TimeProvider>();
        var logger = app.Services.GetRequiredService<ILogger<Store>>();
        foreach (var name in await store.MigrateAsync(clock, cancellationToken)) Log.MigrationApplied(logger, name, store.Provider);

        if (await store.CountPartnersAsync(cancellationToken) > 0) return;
        var key = await store.CreatePartnerAsync("default", KeyScope.Admin, clock.GetUtcNow(), cancellationToken);
        await output.WriteLineAsync(
            $"""
            Created partner 'default' ({key.PartnerId}) with an admin API key. It is shown only this once:

                {key.Secret}

            Send it in the api_key header, e.g. curl -H 'api_key: {key.Secret}' ...
            """);
        await output.FlushAsync(cancellationToken);
        Log.DefaultPartnerCreated(logger, key.PartnerId);
    }

    private static bool IsClientFault(Exception error, HttpContext http) =>
        error is BadHttpRequestException || (error is OperationCanceledException && http.RequestAborted.IsCancellationRequested);

    private static async Task WriteUnhandledError(HttpContext http)
    {
        var error = http.Features.Get<IExceptionHandlerFeature>()?.Error;
        var logger = http.RequestServices.GetRequiredService<ILogger<CorrelationMiddleware>>();
        http.Response.Headers[CorrelationMiddleware.Header] = http.CorrelationId(); // the exception handler cleared the headers
        if (error is not null && IsClientFault(error, http))
        {
            Log.ClientFault(logger, http.Request.Method, http.Request.Path, error.Message, http.CorrelationId());
            if (error is BadHttpRequestException bad) await ApiError.FromBadRequest(bad).ExecuteAsync(http);
            return;
        }
        if (error is not null) Log.UnhandledError(logger, error, http.CorrelationId());
        await TypedResults.Json(new ErrorBody("Internal server error; quote the correlation id when reporting it.", http.CorrelationId()),
            statusCode: StatusCodes.Status500InternalServerError).ExecuteAsync(http);
    }
}
