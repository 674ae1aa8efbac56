using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ProspectEvents.Server.Auth;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Telemetry;

/// <summary>
/// Wires OpenTelemetry: metrics from our meter, ASP.NET Core, Kestrel, HttpClient, the runtime and Npgsql, exported as
/// Prometheus text at <c>/metrics</c> and, when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, over OTLP with traces too.
/// Without an OTLP endpoint nothing traces, so no span is ever started on the hot paths.
/// </summary>
public static class TelemetrySetup
{
    public const string MetricsPath = "/metrics";

    // The outbound HTTP meter tags server.address and server.port: for webhook requests, a partner's host.
    private static readonly string[] HttpClientTags = ["http.request.method", "http.response.status_code", "error.type", "url.scheme", "network.protocol.version"];

    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        var (prometheus, otlp) = Exporters(builder.Configuration);
        if (!prometheus && !otlp) return builder;

        builder.Services.AddSingleton<OutboxGauges>();
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? "prospect-events"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Instruments.Name)
                    .AddInstrumentation(sp => sp.GetRequiredService<OutboxGauges>())
                    .AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddNpgsqlInstrumentation()
                    .AddMeter("System.Net.Http")
                    .AddView("http.client.*", new MetricStreamConfiguration { TagKeys = HttpClientTags });
                if (prometheus) metrics.AddPrometheusExporter();
                if (otlp) metrics.AddOtlpExporter();
            });
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing.AddSource(Instruments.Name)
                .AddAspNetCoreInstrumentation(o =>
                {
                    o.Filter = http => !http.Request.Path.StartsWithSegments(MetricsPath);
                    o.EnrichWithHttpResponse = HidePathValues;
                })
                // Webhook requests are left out: our delivery span covers them, and a partner's URL belongs in no span;
                // other requests keep their host but not their URL, whose path or query may hold an id or a token.
                .AddHttpClientInstrumentation(o =>
                {
                    o.FilterHttpRequestMessage = request => !request.Options.TryGetValue(WebhookRequest, out _);
                    o.EnrichWithHttpRequestMessage = (span, _) => span.SetTag("url.full", null);
                })
                .AddNpgsql()
                .AddOtlpExporter());
        }
        return builder;
    }

    /// <summary>A path may hold a partner id (<c>/v1/webhooks/{partner_id}</c>): its span shows the route template instead.</summary>
    private static void HidePathValues(System.Diagnostics.Activity span, HttpResponse response)
    {
        if (response.HttpContext.GetEndpoint() is RouteEndpoint { RoutePattern.Parameters.Count: > 0 } route) span.SetTag("url.path", route.RoutePattern.RawText);
    }

    /// <summary>Marks an outbound request as a webhook delivery, which no client span records.</summary>
    public static readonly HttpRequestOptionsKey<bool> WebhookRequest = new("ProspectEvents.Webhook");

    /// <summary>Serves <c>/metrics</c> when <c>Telemetry:Prometheus</c> is on, open or behind an admin key (<c>Telemetry:PrometheusAccess</c>).</summary>
    public static WebApplication MapTelemetry(this WebApplication app)
    {
        if (!Exporters(app.Configuration).Prometheus) return app;
        app.MapPrometheusScrapingEndpoint(MetricsPath, meterProvider: null, configureBranchedPipeline: pipeline => pipeline.Use(CheckAccess), optionsName: null);
        return app;
    }

    /// <summary>
    /// Which exporters run, read leniently: the settings are validated once the app is built (<see cref="Hosting.Settings"/>),
    /// and a value they reject stops the process then, with a message naming the key.
    /// </summary>
    private static (bool Prometheus, bool Otlp) Exporters(IConfiguration configuration) =>
        (!bool.TryParse(configuration[$"{TelemetryOptions.Section}:{nameof(TelemetryOptions.Prometheus)}"], out var on) || on,
         !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]));

    private static async Task CheckAccess(HttpContext http, RequestDelegate next)
    {
        if (http.RequestServices.GetRequiredService<IOptions<TelemetryOptions>>().Value.PrometheusAccess != TelemetryOptions.Admin)
        {
            await next(http);
            return;
        }
        // The partner API's own check, so the answers (401, 403, 429) and the failed-key rate limit are the same.
        var refused = await new ApiKeyFilter(KeyScope.Admin).InvokeAsync(new DefaultEndpointFilterInvocationContext(http), _ => ValueTask.FromResult<object?>(null));
        if (refused is IResult result) await result.ExecuteAsync(http);
        else await next(http);
    }
}
