namespace ProspectEvents.Server.Telemetry;

/// <summary>The <c>Telemetry</c> section (docs/telemetry.md). OTLP export is configured by the standard <c>OTEL_*</c> variables.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    public const string Open = "open";
    public const string Admin = "admin";

    /// <summary>Serve the metrics as Prometheus text at <c>/metrics</c>.</summary>
    public bool Prometheus { get; set; } = true;

    /// <summary>
    /// Who may read <c>/metrics</c>: <c>open</c> (anyone who reaches the listen address: a scraper usually cannot send
    /// our <c>api_key</c> header) or <c>admin</c> (an admin key in that header, as every operator endpoint).
    /// </summary>
    public string PrometheusAccess { get; set; } = Open;

    /// <summary>How long the outbox gauges reuse one reading of the store, so a scrape never costs a query of its own.</summary>
    public TimeSpan OutboxRefresh { get; set; } = TimeSpan.FromSeconds(5);
}
