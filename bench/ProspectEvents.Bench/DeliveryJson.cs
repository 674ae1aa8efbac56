using System.Text.Json.Serialization;

namespace ProspectEvents.Bench;

/// <summary>
/// Requests counted at one receiver sink, from the first arrival to the expected count. CPU and core figures cover
/// the window in which the orchestrator saw the sink go from its first to its last request (polled every 50 ms).
/// </summary>
internal sealed record SinkPhase
{
    public required string Sink { get; init; }
    public long Expected { get; init; }
    public long Received { get; init; }
    public long Duplicates { get; init; }
    public double AverageBodyBytes { get; init; }
    public double FirstToLastSeconds { get; init; }
    public double PerSecond { get; init; }
    /// <summary>UTC ticks when the deliveries were released.</summary>
    public long StartedTicks { get; init; }
    /// <summary>From the action that released the deliveries (webhook registered, baseline started) to the last arrival.</summary>
    public double? StartToLastSeconds { get; init; }
    /// <summary>From that action until the outbox showed none of the partner's deliveries pending (attempts recorded).</summary>
    public double? RecordedSeconds { get; init; }
    /// <summary>Requests at the sink once every attempt was recorded: more than <see cref="Received"/> means resends (a lease ran out before its attempt was recorded).</summary>
    public long? ReceivedWhenRecorded { get; init; }
    public long? DuplicatesWhenRecorded { get; init; }
    public long[] PerSecondArrivals { get; init; } = [];
    public double WindowSeconds { get; init; }
    public Dictionary<string, double> CpuSeconds { get; init; } = [];
    public double[] CoreBusyPercent { get; init; } = [];
    public bool Complete { get; init; }
}

internal sealed record LatencyPhase
{
    public int Rate { get; init; }
    public int IntervalMs { get; init; }
    public int Batch { get; init; }
    public int WarmupSeconds { get; init; }
    public int Seconds { get; init; }
    public long Observations { get; init; }
    public long EventsDetected { get; init; }
    public long Received { get; init; }
    public long Duplicates { get; init; }
    public long Measured { get; init; }
    /// <summary>Arrival at the receiver minus the event's detected_at (from the database), events of the measured batches.</summary>
    public required LatencySummary FromDetection { get; init; }
    /// <summary>The same for the warm-up batches.</summary>
    public LatencySummary? WarmupFromDetection { get; init; }
    /// <summary>Arrival minus the moment the feeder's POST of the event's batch was answered (may be negative).</summary>
    public LatencySummary? FromAcknowledgement { get; init; }
    /// <summary>How long the feeder's POSTs took (send to answer), measured batches.</summary>
    public LatencySummary? FeedPost { get; init; }
    /// <summary>p99 of detection-to-delivery per second of the measured window.</summary>
    public double[] P99PerSecondMs { get; init; } = [];
    public double MaxFeederSlipMs { get; init; }
    public long FeedErrors { get; init; }
    public List<string> FeedErrorSamples { get; init; } = [];
    public double WindowSeconds { get; init; }
    public Dictionary<string, double> CpuSeconds { get; init; } = [];
    public double[] CoreBusyPercent { get; init; } = [];
    public bool Complete { get; init; }
}

internal sealed record DeliveryBackendRow
{
    public required string Backend { get; init; }
    public string? Settings { get; init; }
    public double SetupSeconds { get; init; }
    public long Enrollments { get; init; }
    public long SetupEvents { get; init; }
    public SinkPhase? Warmup { get; init; }
    public SinkPhase? Throughput { get; init; }
    public Dictionary<string, long> OutboxAfterThroughput { get; init; } = [];
    public LatencyPhase? Latency { get; init; }
    public Dictionary<string, long> OutboxAtEnd { get; init; } = [];
    public long ServerPeakRssKb { get; init; }
    public string? Error { get; init; }
}

internal sealed record DeliveryBaseline
{
    public required SinkPhase Phase { get; init; }
    public required PostBodiesResult Client { get; init; }
}

internal sealed record DeliveryReport : VerdictReport
{
    public required DeliveryOptions Options { get; init; }
    public List<DeliveryBackendRow> Rows { get; init; } = [];
    public DeliveryBaseline? Baseline { get; init; }
}

[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(DeliveryReport))]
[JsonSerializable(typeof(PostBodiesResult))]
[JsonSerializable(typeof(FeedResult))]
internal sealed partial class DeliveryJsonContext : JsonSerializerContext;
