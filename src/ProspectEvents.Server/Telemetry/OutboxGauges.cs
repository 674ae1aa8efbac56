using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Telemetry;

/// <summary>
/// The outbox gauges (<c>prospect_events.outbox.pending</c>, <c>.oldest_pending_age</c>), read from the store at most
/// once per <see cref="TelemetryOptions.OutboxRefresh"/> however often they are collected. Collection is synchronous,
/// so the reading blocks the collecting thread for one indexed query; when the store cannot answer, the gauges report
/// nothing (an absent series, not a stale value that looks healthy).
/// </summary>
public sealed class OutboxGauges
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);

    // The store and the settings are resolved at the first collection: the gauges are made while the app is built,
    // before its settings are validated, and the store must not be opened with settings that will be refused.
    private readonly IServiceProvider _services;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private Store.OutboxBacklog? _backlog;
    private long _readAt;

    public OutboxGauges(IServiceProvider services, TimeProvider clock, IMeterFactory meters, ILogger<OutboxGauges> logger)
    {
        (_services, _clock, _logger) = (services, clock, logger);
        var meter = meters.Create(Instruments.Name);
        meter.CreateObservableGauge(Instruments.OutboxPending, () => Observe(b => b.Pending), "{delivery}",
            "Deliveries waiting to be sent: due, leased to a sender, or waiting for a retry or for their webhook to be enabled.");
        meter.CreateObservableGauge(Instruments.OutboxOldestPendingAge,
            () => Observe(b => b.OldestCreatedAt is { } at ? Math.Max(0, (_clock.GetUtcNow() - at).TotalSeconds) : 0), "s",
            "Age of the oldest pending delivery (since its event was detected); 0 when none is pending.");
    }

    private IEnumerable<Measurement<T>> Observe<T>(Func<Store.OutboxBacklog, T> value) where T : struct =>
        Read() is { } backlog ? [new Measurement<T>(value(backlog))] : [];

    private Store.OutboxBacklog? Read()
    {
        lock (_gate)
        {
            var refresh = _services.GetRequiredService<IOptions<TelemetryOptions>>().Value.OutboxRefresh;
            if (_readAt != 0 && Stopwatch.GetElapsedTime(_readAt) < refresh) return _backlog;
            try
            {
                using var timeout = new CancellationTokenSource(ReadTimeout);
                _backlog = _services.GetRequiredService<Store>().OutboxBacklogAsync(timeout.Token).GetAwaiter().GetResult();
            }
            catch (Exception e) // logged; a gauge must not fail the whole collection
            {
                Log.OutboxGaugeFailed(_logger, e);
                _backlog = null;
            }
            _readAt = Stopwatch.GetTimestamp();
            return _backlog;
        }
    }
}
