using System.Text.Json.Serialization;

namespace ProspectEvents.Bench;

/// <summary>One feed snapshot POSTed over all the processes: the rate from the first batch sent to the last answered.</summary>
internal sealed record ScaleIngestStep
{
    public required int Snapshot { get; init; }
    public required string Step { get; init; }
    public long Lines { get; init; }
    public long Observations { get; init; }
    public long Events { get; init; }
    public long ExpectedEvents { get; init; }
    public double Seconds { get; init; }
    public double ObservationsPerSecond { get; init; }
    public int Batches { get; init; }
    public long FailedBatches { get; init; }
    public List<string> ErrorSamples { get; init; } = [];
    public LatencySummary? BatchPost { get; init; }
    /// <summary>CPU seconds of each server process over the step, in start order.</summary>
    public double[] ServerCpuSeconds { get; init; } = [];
    public double PostgresCpuSeconds { get; init; }
    public double[] CoreBusyPercent { get; init; } = [];
}

/// <summary>The fetch row of one process count: the load dealt over every process, with the size of an answer.</summary>
internal sealed record ScaleFetch
{
    public required RunRow Row { get; init; }
    public double EventsPerResponse { get; init; }
    public double? Ratio { get; init; }
    /// <summary>PostgreSQL CPU over the warm-up and the window together, per request answered in them.</summary>
    public double PostgresCpuMicrosecondsPerRequest { get; init; }
}

/// <summary>What the events stored with N processes have that the reference run's do not, and what they lack.</summary>
internal sealed record EventComparison(int ReferenceProcesses, long Events, long Missing, long Extra, List<string> Examples);

internal sealed record ScaleRow
{
    public required int Processes { get; init; }
    public string Database { get; init; } = "";
    public List<string> ServerAffinity { get; init; } = [];
    public List<ScaleIngestStep> Ingest { get; init; } = [];
    public EventCheck? EventCheck { get; init; }
    public EventComparison? ComparedToReference { get; init; }
    public ScaleFetch? Fetch { get; init; }
    public SinkPhase? DeliveryWarmup { get; init; }
    public SinkPhase? Deliveries { get; init; }
    public Dictionary<string, long> OutboxAfter { get; init; } = [];
    public long[] ServerPeakRssKb { get; init; } = [];
    public string? Error { get; init; }

    /// <summary>Observations a second over the steady-state snapshots together.</summary>
    public double? SteadyObservationsPerSecond =>
        Ingest.Where(s => s.Snapshot > 1).ToList() is { Count: > 0 } steady && steady.Sum(s => s.Seconds) > 0
            ? steady.Sum(s => s.Observations) / steady.Sum(s => s.Seconds)
            : null;

    public double? FirstSightObservationsPerSecond => Ingest.FirstOrDefault(s => s.Snapshot == 1)?.ObservationsPerSecond;
}

internal sealed record ScaleReport : VerdictReport
{
    public required ScaleOptions Options { get; init; }
    public string FeedDirectory { get; init; } = "";
    public FeedManifest? Feed { get; init; }
    public string? PostgresSettings { get; init; }
    public RunRow? Baseline { get; init; }
    public List<ScaleRow> Rows { get; init; } = [];
}

[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(ScaleReport))]
internal sealed partial class ScaleJsonContext : JsonSerializerContext;
