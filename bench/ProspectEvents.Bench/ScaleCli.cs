using System.Globalization;

namespace ProspectEvents.Bench;

internal sealed record ScaleOptions
{
    public List<int> Processes { get; init; } = [1, 2, 3];
    public int Prospects { get; init; } = 1_000_000;
    public int Snapshots { get; init; } = 3;
    public ulong Seed { get; init; } = 42;
    public bool Regenerate { get; init; }
    public int Batch { get; init; } = 10_000;
    public int InFlight { get; init; } = 2;
    public int Seconds { get; init; } = 15;
    public int WarmupSeconds { get; init; } = 15;
    public int Connections { get; init; } = 32;
    public int Ids { get; init; } = 40;
    public int Deliveries { get; init; } = 20_000;
    public int WarmupDeliveries { get; init; } = 10_000;
    public int Concurrency { get; init; } = 64;
    public bool SkipBaseline { get; init; }
    public bool NoBuild { get; init; }
    public string? ServerDll { get; init; }
    public bool NoPin { get; init; }
    public bool KeepDb { get; init; }
    public string? ResultsDir { get; init; }
}

internal static partial class Cli
{
    private const string ScaleUsage = "\n" + """
        scale options (1, 2 and 3 `serve` processes on one throwaway PostgreSQL: HTTP ingest, fetch and webhook
        delivery spread over the processes, beside a trivial-GET baseline, one run):
          --processes LIST   process counts to run, in order (default 1,2,3; the first is the reference
                             the others' events are compared with)
          --prospects N      prospects in the ingest feed (default 1000000; 100k / 1M accepted)
          --snapshots S      snapshot files of the feed (default 3; >= 2): first sight, then steady state
          --seed N           feed seed (default 42)
          --regenerate       regenerate the feed even if bench/results/feeds/<params> has it
          --batch N          lines per POST /v1/admin/observations (default 10000)
          --in-flight K      ingest POSTs in flight per process (default 2)
          --seconds N        measured fetch window per process count (default 15)
          --warmup N         fetch warm-up seconds, not counted (default 15)
          --connections N    fetch connections in all, dealt round-robin over the processes (default 32)
          --ids N            prospect ids per fetch (default 40)
          --deliveries N     deliveries drained by the processes' dispatchers (default 20000)
          --warmup-deliveries N  deliveries of a second partner drained first (default 10000)
          --concurrency N    Webhooks:Concurrency of each process (default 64)
          --skip-baseline    no trivial-GET baseline (no fetch ratio)
          --no-build / --server-dll PATH / --no-pin / --keep-db / --results DIR   as for deliveries

        scale exit code: 0 = every step ran, the events matched and every delivery arrived once; 1 = a
                         request failed, an event or delivery was wrong or missing; 2 = setup failure.
        """;

    public static ScaleOptions ParseScaleOptions(string[] args)
    {
        var o = new ScaleOptions();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--processes": o = o with { Processes = ProcessCounts(args, ref i) }; break;
                case "--prospects": o = o with { Prospects = Count(args, ref i) }; break;
                case "--snapshots": o = o with { Snapshots = PositiveInt(args, ref i) }; break;
                case "--seed": o = o with { Seed = Seed(args, ref i) }; break;
                case "--regenerate": o = o with { Regenerate = true }; break;
                case "--batch": o = o with { Batch = Count(args, ref i) }; break;
                case "--in-flight": o = o with { InFlight = PositiveInt(args, ref i) }; break;
                case "--seconds": o = o with { Seconds = PositiveInt(args, ref i) }; break;
                case "--warmup": o = o with { WarmupSeconds = NonNegativeInt(args, ref i) }; break;
                case "--connections": o = o with { Connections = PositiveInt(args, ref i) }; break;
                case "--ids": o = o with { Ids = Math.Min(40, PositiveInt(args, ref i)) }; break;
                case "--deliveries": o = o with { Deliveries = Count(args, ref i) }; break;
                case "--warmup-deliveries": o = o with { WarmupDeliveries = NonNegativeInt(args, ref i) }; break;
                case "--concurrency": o = o with { Concurrency = PositiveInt(args, ref i) }; break;
                case "--skip-baseline": o = o with { SkipBaseline = true }; break;
                case "--no-build": o = o with { NoBuild = true }; break;
                case "--server-dll": o = o with { ServerDll = Value(args, ref i) }; break;
                case "--no-pin": o = o with { NoPin = true }; break;
                case "--keep-db": o = o with { KeepDb = true }; break;
                case "--results": o = o with { ResultsDir = Value(args, ref i) }; break;
                default: throw new CliException($"unknown scale option '{args[i]}' (see --help)");
            }
        }

        if (o.Snapshots < 2)
        {
            throw new CliException("--snapshots must be at least 2 (first sight + at least one steady-state snapshot)");
        }

        if (o.Connections < o.Processes.Max())
        {
            throw new CliException($"--connections must be at least the largest process count ({o.Processes.Max()}), so every process gets fetches");
        }

        return o;
    }

    /// <summary>A comma-separated list of process counts, each 1..8.</summary>
    private static List<int> ProcessCounts(string[] args, ref int i)
    {
        string text = Value(args, ref i);
        var counts = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n is < 1 or > 8)
            {
                throw new CliException($"--processes expects a list of counts between 1 and 8, like 1,2,3; got '{text}'");
            }

            counts.Add(n);
        }

        return counts;
    }
}
