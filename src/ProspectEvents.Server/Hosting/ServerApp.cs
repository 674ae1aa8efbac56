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
        var roles = builder.AddRoles(); // after configure, which tests use to set Roles
        builder.AddIngestWork(roles);
        builder.AddAnniversaries(roles);
        builder.AddFanout(roles);
        builder.AddRetention(roles);
        builder.AddWebhooks(roles);
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
        app.MapTelemetry();
        app.MapIngest(); // in every process: one without the ingest role answers it 503
        if (!roles.Api)
        {
            app.MapFallback("{*path}", RoleRefusal.MissingApi);
            return app;
        }
        app.MapEnrollments();
        app.MapEvents();
        app.MapWebhooks();
        app.MapEnrollmentsV2();
        app.MapWebhooksV2();
        app.MapAdmin();
        app.MapApiDocs();
        app.MapDashboard();
        return app;
    }

    public static WebApplicationBuilder AddStorage(this WebApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSettings();
        builder.Services.AddSingleton(sp =>
        {
            var store = CreateStore(sp.GetRequiredService<IOptions<StorageOptions>>().Value, sp.GetRequiredService<IOptions<WebhookOptions>>().Value,
                sp.GetRequiredService<ILogger<Store>>());
            // Internal: lets a test run this build as an older one would, claiming to know fewer migrations.
            if (int.TryParse(sp.GetRequiredService<IConfiguration>()[ClaimSchemaVersionKey], out var claimed)) store.KnownSchemaVersion = claimed;
            return store;
        });
        // One per process, beside the store: its cache serves every ingest, from the HTTP endpoint and the workers alike.
        builder.Services.AddSingleton(sp => new IngestEngine(sp.GetRequiredService<Store>(), sp.GetRequiredService<ILogger<IngestEngine>>()));
        return builder;
    }

    /// <summary>Internal, for tests of rolling upgrades: the highest migration this process claims to know.</summary>
    public const string ClaimSchemaVersionKey = "Internal:ClaimSchemaVersion";

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
        builder.Services.AddSingleton<FailedAuthLimiter>();
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

    /// <summary>
    /// Reads <c>Roles</c> (a name that is no role stops the process) and registers the process registry as the first
    /// worker, so it has registered, and found whether a newer build owns the schema, before the others start.
    /// </summary>
    public static Roles AddRoles(this WebApplicationBuilder builder)
    {
        var roles = Roles.From(builder.Configuration);
        builder.Services.AddSingleton(roles);
        builder.Services.AddSingleton<ProcessRegistry>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ProcessRegistry>());
        return roles;
    }

    public static WebApplicationBuilder AddIngestWork(this WebApplicationBuilder builder, Roles roles)
    {
        if (roles.Ingest) builder.Services.AddHostedService<IngestCacheRelease>();
        return builder;
    }

    public static WebApplicationBuilder AddAnniversaries(this WebApplicationBuilder builder, Roles roles)
    {
        builder.Services.AddSingleton<AnniversaryScheduler>();
        if (roles.Scheduler) builder.Services.AddHostedService(sp => sp.GetRequiredService<AnniversaryScheduler>());
        return builder;
    }

    public static WebApplicationBuilder AddFanout(this WebApplicationBuilder builder, Roles roles)
    {
        if (roles.Scheduler) builder.Services.AddHostedService<EnrollmentIndexer>();
        return builder;
    }

    public static WebApplicationBuilder AddRetention(this WebApplicationBuilder builder, Roles roles)
    {
        builder.Services.AddSingleton<EventRetention>();
        if (roles.Scheduler) builder.Services.AddHostedService(sp => sp.GetRequiredService<EventRetention>());
        return builder;
    }

    public static WebApplicationBuilder AddWebhooks(this WebApplicationBuilder builder, Roles roles)
    {
        builder.Services.AddSingleton<WebhookSender>();
        if (roles.Dispatcher)
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

        await app.Services.GetRequiredService<ProcessRegistry>().CheckSchemaAsync(cancellationToken);

        if (await store.CreateFirstPartnerAsync("default", clock.GetUtcNow(), cancellationToken) is not { } key) return;
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
        if (error is NewerSchemaException newer)
        {
            // A newer build migrated the schema while this request ran: a refusal of this process, not a bug.
            await ApiError.Unavailable(newer.Message).ExecuteAsync(http);
            return;
        }
        if (error is not null) Log.UnhandledError(logger, error, http.CorrelationId());
        await TypedResults.Json(new ErrorBody("Internal server error; quote the correlation id when reporting it.", http.CorrelationId()),
            statusCode: StatusCodes.Status500InternalServerError).ExecuteAsync(http);
    }
}
