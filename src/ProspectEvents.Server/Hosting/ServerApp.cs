using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ProspectEvents.Server.Admin;
using ProspectEvents.Server.Anniversaries;
using ProspectEvents.Server.Auth;
using ProspectEvents.Server.Dashboard;
using ProspectEvents.Server.Enrollments;
using ProspectEvents.Server.Events;
using ProspectEvents.Server.Fanout;
using ProspectEvents.Server.Http;
using ProspectEvents.Server.Ingest;
using ProspectEvents.Server.Telemetry;
using ProspectEvents.Server.Webhooks;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Hosting;

/// <summary>Builds the web application: the one place that lists every part of the server.</summary>
public static class ServerApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // No watching for appsettings.json changes: the watcher covers the working directory recursively, and the
        // SQLite files live below it, so every write woke it and cost the enrollment path throughput.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [.. args, "--hostBuilder:reloadConfigOnChange=false"] });
        builder.Configuration.AddShippedSettings();
        builder.AddStorage();
        builder.AddPartnerApi();
        builder.AddApiDocs();
        configure?.Invoke(builder);
        builder.AddAnniversaries(); // after configure: these read Roles, which tests may set
        builder.AddFanout();
        builder.AddRetention();
        builder.AddWebhooks();
        builder.AddTelemetry();

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
        app.MapEnrollmentsV2();
        app.MapWebhooksV2();
        app.MapAdmin();
        app.MapApiDocs();
        app.MapDashboard();
        app.MapTelemetry();
        return app;
    }

    public static WebApplicationBuilder AddStorage(this WebApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSettings();
        builder.Services.AddHostedService<IngestCacheRelease>();
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
        builder.Services.AddSingleton<AnniversaryScheduler>();
        if (Roles.Has(builder.Configuration, Roles.Scheduler)) builder.Services.AddHostedService(sp => sp.GetRequiredService<AnniversaryScheduler>());
        return builder;
    }

    public static WebApplicationBuilder AddFanout(this WebApplicationBuilder builder)
    {
        if (Roles.Has(builder.Configuration, Roles.Scheduler)) builder.Services.AddHostedService<EnrollmentIndexer>();
        return builder;
    }

    public static WebApplicationBuilder AddRetention(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<EventRetention>();
        if (Roles.Has(builder.Configuration, Roles.Scheduler)) builder.Services.AddHostedService(sp => sp.GetRequiredService<EventRetention>());
        return builder;
    }

    public static WebApplicationBuilder AddWebhooks(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<WebhookSender>();
        if (Roles.Has(builder.Configuration, Roles.Dispatcher))
        {
            builder.Services.AddSingleton<DeliveryDispatcher>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<DeliveryDispatcher>());
        }
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
