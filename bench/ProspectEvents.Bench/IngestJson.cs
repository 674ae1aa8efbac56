using System.Text.Json.Serialization;

namespace ProspectEvents.Bench;

internal sealed record ParsedFile
{
    public required string File { get; init; }
    public required long Lines { get; init; }
    public required long Bytes { get; init; }
    public required long Failed { get; init; }
    public required double Seconds { get; init; }
}

/// <summary>What the hidden parse-feed verb prints.</summary>
internal sealed record ParseResult
{
    public required string Mode { get; init; }
    public required List<ParsedFile> Files { get; init; }
    public required long Lines { get; init; }
    public required double Seconds { get; init; }
    public required long Checksum { get; init; }
}

/// <summary>The JSON summary the server's `ingest` verb prints on stdout.</summary>
internal sealed record IngestVerbSummary
{
    public long Observations { get; init; }
    public long Rejected { get; init; }
    public long Stale { get; init; }
    public long Events { get; init; }
    public double Seconds { get; init; }
}

/// <summary>Resource use of one measured child process.</summary>
internal sealed record ProcessMeasure
{
    public int? ExitCode { get; init; }
    public bool TimedOut { get; init; }
    public double WallSeconds { get; init; }
    public double UserSeconds { get; init; }
    public double SysSeconds { get; init; }
    public long PeakRssKb { get; init; }

    /// <summary>"time -v" (exact, from the kernel's rusage) or "sampled" (VmHWM read every 100 ms).</summary>
    public string? RssSource { get; init; }
    public long VoluntaryContextSwitches { get; init; }
    public long InvoluntaryContextSwitches { get; init; }
    public long FileSystemOutputs { get; init; }
    public string? Affinity { get; init; }
    public double[] CoreBusyPercent { get; init; } = [];
    public double[] CoreStealPercent { get; init; } = [];
}

/// <summary>Throughput over ~1 s intervals, from the ingest verb's progress lines on stderr.</summary>
internal sealed record ProgressStats
{
    public int Intervals { get; init; }
    public double FirstTenthPerSecond { get; init; }
    public double MedianPerSecond { get; init; }
    public double LastTenthPerSecond { get; init; }
    public double MinPerSecond { get; init; }
    public double MaxPerSecond { get; init; }
}

internal sealed record BaselineRow
{
    public required string Mode { get; init; }
    public required long Lines { get; init; }
    public required double Seconds { get; init; }
    /// <summary>Warm rate: files 2..S (the first file pays for JIT warm-up and is reported separately).</summary>
    public required double ObservationsPerSecond { get; init; }
    public required double FirstFileObservationsPerSecond { get; init; }
    public required double ObservationsPerSecondWall { get; init; }
    public required List<ParsedFile> Files { get; init; }
    public required ProcessMeasure Process { get; init; }
}

internal sealed record IngestRow
{
    public required string Backend { get; init; }
    public required string Step { get; init; }
    public required int Snapshot { get; init; }
    public required string File { get; init; }
    public IngestVerbSummary? Summary { get; init; }
    public required int ExpectedEvents { get; init; }
    public required int ExpectedStale { get; init; }
    public required long Lines { get; init; }
    public double? ObservationsPerSecond { get; init; }
    public double? ObservationsPerSecondWall { get; init; }
    public double? RatioToBaseline { get; init; }
    public required ProcessMeasure Process { get; init; }
    public ProgressStats? Progress { get; init; }
    public double? DatabaseCpuUser { get; init; }
    public double? DatabaseCpuSys { get; init; }
    public long? DatabaseBytesAfter { get; init; }
    public List<string> RejectedSamples { get; init; } = [];
    public string? Error { get; init; }
}

internal sealed record EventExample
{
    public required string Problem { get; init; }
    public required int Snapshot { get; init; }
    public required string ProspectId { get; init; }
    public string? EventName { get; init; }
    public string? EventData { get; init; }
    public required List<string> Lines { get; init; }
}

internal sealed record EventCheck
{
    public required string Backend { get; init; }
    public required Dictionary<string, long> FoundByName { get; init; }
    public required long PlantedCompany { get; init; }
    public required long PlantedRole { get; init; }
    public required long Matched { get; init; }
    public required long Unexpected { get; init; }
    public required long Missing { get; init; }
    public required List<EventExample> Examples { get; init; }
    public string? Error { get; init; }
}

internal sealed record TargetCheck
{
    public required string Name { get; init; }
    public required string Target { get; init; }
    public required string Measured { get; init; }
    public bool? Pass { get; init; }
}

internal sealed record IngestReport : VerdictReport
{
    public required string FeedDirectory { get; init; }
    public required FeedManifest Feed { get; init; }
    public string? SqliteSettings { get; init; }
    public string? PostgresSettings { get; init; }
    public List<BaselineRow> Baselines { get; init; } = [];
    public List<IngestRow> Rows { get; init; } = [];
    public List<EventCheck> EventChecks { get; init; } = [];
}

[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(FeedManifest))]
[JsonSerializable(typeof(ParseResult))]
[JsonSerializable(typeof(IngestVerbSummary))]
[JsonSerializable(typeof(IngestReport))]
internal sealed partial class IngestJsonContext : JsonSerializerContext;
