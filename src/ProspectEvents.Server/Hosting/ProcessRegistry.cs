using System.Reflection;
using Microsoft.Extensions.Options;
using ProspectEvents.Detection;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Hosting;

/// <summary>
/// This process's row in the registry of <c>serve</c> processes sharing the database (<see cref="Store.BeatAsync"/>):
/// registered before the other workers start, beaten every <c>Processes:HeartbeatInterval</c>, removed on a clean stop.
/// Each beat also reads the schema version: once a newer build has migrated past what this one knows, the process is
/// <see cref="Outdated"/> for good, and its ingest and scheduled jobs stand down. Processes of older builds it sees
/// beside it are logged once each.
/// </summary>
public sealed class ProcessRegistry(Store store, Roles roles, TimeProvider clock, IOptions<ProcessOptions> options, ILogger<ProcessRegistry> logger) : BackgroundService
{
    private readonly HashSet<string> _reported = [];
    private volatile string? _outdatedReason;

    public ProcessRecord Self { get; private set; } = new(
        "pr_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)), Environment.MachineName, Environment.ProcessId,
        roles.Names, Build, store.KnownSchemaVersion, Fingerprint.Version, ProcessRecord.Running, clock.GetUtcNow(), clock.GetUtcNow(), options.Value.HeartbeatInterval);

    /// <summary>Why this process stopped its ingest and scheduled jobs; null while it runs them.</summary>
    public string? OutdatedReason => _outdatedReason;

    public bool Outdated => _outdatedReason is not null;

    /// <summary>The server assembly's informational version (with its commit when the build recorded one).</summary>
    public static string Build { get; } =
        typeof(ProcessRegistry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>Reads the schema version at once (as <c>PrepareAsync</c> does right after migrating), before any worker starts.</summary>
    public async Task CheckSchemaAsync(CancellationToken cancellationToken)
    {
        var schema = await store.SchemaVersionAsync(cancellationToken);
        if (schema <= store.KnownSchemaVersion || _outdatedReason is not null) return;
        _outdatedReason = NewerSchemaException.Describe(schema, store.KnownSchemaVersion);
        Self = Self with { State = ProcessRecord.Outdated };
        Log.ProcessOutdated(logger, schema, store.KnownSchemaVersion, string.Join(',', roles.Names));
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        Log.ProcessStarted(logger, Self.ProcessId, string.Join(',', roles.Names), Build, store.KnownSchemaVersion);
        await BeatOnceAsync(cancellationToken); // registered, and outdated if it is, before the workers after it start
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken)) await BeatOnceAsync(stoppingToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await store.RemoveProcessAsync(Self.ProcessId, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.ProcessNotRemoved(logger, e); // the row ages out after three missed beats
        }
    }

    private async Task BeatOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            await CheckSchemaAsync(cancellationToken);
            var now = clock.GetUtcNow();
            Self = Self with { HeartbeatAt = now };
            await store.BeatAsync(Self, cancellationToken);
            foreach (var other in await store.LiveProcessesAsync(now, cancellationToken)) Report(other);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            // Database unreachable or busy: the next beat tries again; others count this process gone after three misses.
            Log.HeartbeatFailed(logger, e);
        }
    }

    /// <summary>Logs, once per process, one of an older build working beside this one, and what happens about it.</summary>
    private void Report(ProcessRecord other)
    {
        if (other.ProcessId == Self.ProcessId || _reported.Contains(other.ProcessId)) return;
        if (other.SchemaVersion < store.KnownSchemaVersion)
        {
            _reported.Add(other.ProcessId);
            var standsDown = other.Roles.Contains(Roles.IngestName) || other.Roles.Contains(Roles.SchedulerName);
            var what = !standsDown
                ? "it runs neither ingest nor scheduled jobs, so it serves on"
                : other.State == ProcessRecord.Outdated
                    ? "it has stopped its ingest and scheduled jobs"
                    : "its ingest and scheduled jobs refuse this schema from their next batch or pass";
            Log.OlderProcessBeside(logger, other.ProcessId, other.Host, other.Pid, string.Join(',', other.Roles), other.SchemaVersion, store.KnownSchemaVersion, what);
        }
        else if (other.FingerprintVersion != Fingerprint.Version)
        {
            _reported.Add(other.ProcessId);
            Log.OtherFingerprintBeside(logger, other.ProcessId, other.Host, other.Pid, other.FingerprintVersion, Fingerprint.Version);
        }
    }
}
