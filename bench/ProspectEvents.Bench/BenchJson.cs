using System.Text.Json.Serialization;

namespace ProspectEvents.Bench;

/// <summary>Same wire shape as the enrollment request of POST /v1/prospects/events/enrollments.</summary>
internal sealed class EnrollmentRequestEcho
{
    public string? EnrollmentKey { get; set; }
    public List<string>? EventTypes { get; set; }
    public List<string>? ProspectIds { get; set; }
    public int? TtlDays { get; set; }
}

internal sealed record PartnerCreated(string? PartnerId, string? ApiKey);

internal sealed record CpuSample(
    double Seconds,
    double ServerCpuSeconds,
    double ServerUserSeconds,
    double ServerSysSeconds,
    double LoadGenCpuSeconds,
    double[] CoreBusyPercent,
    double[] CoreStealPercent);

internal sealed record LatencySummary(
    long Count,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double P999Ms,
    double MaxMs,
    double MeanMs)
{
    /// <summary>Nearest-rank percentiles, maximum and mean of <paramref name="ms"/> (milliseconds, any order); NaN when empty.</summary>
    public static LatencySummary Of(IEnumerable<double> ms)
    {
        var sorted = ms.Order().ToArray();
        if (sorted.Length == 0)
        {
            return new LatencySummary(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        }

        double At(double p) => sorted[Math.Clamp((long)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new LatencySummary(sorted.Length, At(0.50), At(0.90), At(0.99), At(0.999), sorted[^1], sorted.Average());
    }
}

internal sealed record LoadResult
{
    public required string Url { get; init; }
    public required string Kind { get; init; }
    public required int Connections { get; init; }
    public required int Ids { get; init; }
    public required double WindowSeconds { get; init; }
    public required long Requests { get; init; }
    public required long Errors { get; init; }
    public required long WarmupRequests { get; init; }
    public required long WarmupErrors { get; init; }
    public required double RequestsPerSecond { get; init; }
    public required LatencySummary Latency { get; init; }
    public required long[] PerSecondRequests { get; init; }
    public required Dictionary<string, long> ErrorsByKind { get; init; }
    public required List<string> ErrorSamples { get; init; }
    public required double BodyBuildNanoseconds { get; init; }
    public required int BodyBytes { get; init; }
    public CpuSample? Cpu { get; init; }
    public string? AffinityList { get; init; }
}

internal sealed record RunRow
{
    public required string Name { get; init; }
    public required LoadResult Load { get; init; }
    public string? ServerAffinity { get; init; }
    public long ServerPeakRssKb { get; init; }
    public string? Notes { get; init; }
}

/// <summary>What every result file opens with: when, the command, the machine, the source and the pinning (see <see cref="BenchRun.Stamped"/>).</summary>
internal abstract record RunReport
{
    [JsonPropertyOrder(-1)] public DateTimeOffset StartedUtc { get; init; }
    [JsonPropertyOrder(-1)] public string Command { get; init; } = "";
    [JsonPropertyOrder(-1)] public string Machine { get; init; } = "";
    [JsonPropertyOrder(-1)] public string? Source { get; init; }
    [JsonPropertyOrder(-1)] public string Pinning { get; init; } = "";
}

/// <summary>A result file that ends with the verdict: the targets, the warnings, whether the run counts, its length.</summary>
internal abstract record VerdictReport : RunReport
{
    [JsonPropertyOrder(1)] public List<TargetCheck> Targets { get; init; } = [];
    [JsonPropertyOrder(1)] public List<string> Warnings { get; init; } = [];
    [JsonPropertyOrder(1)] public bool Valid { get; init; }
    [JsonPropertyOrder(1)] public double TotalSeconds { get; init; }
}

internal sealed record BenchReport : RunReport
{
    public required List<RunRow> Rows { get; init; }
    public double? Ratio { get; init; }
    public bool? RatioPass { get; init; }
    public bool? P99Pass { get; init; }
    public required bool HadErrors { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(EnrollmentRequestEcho))]
[JsonSerializable(typeof(PartnerCreated))]
internal sealed partial class WireJsonContext : JsonSerializerContext;

[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(LoadResult))]
[JsonSerializable(typeof(BenchReport))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;
