namespace ProspectEvents.Bench;

internal sealed record DeliveryOptions
{
    public int Deliveries { get; init; } = 50_000;
    public int WarmupDeliveries { get; init; } = 20_000;
    public int Concurrency { get; init; } = 64;
    public int LatencyRate { get; init; } = 1_000;
    public int LatencySeconds { get; init; } = 25;
    public int LatencyWarmupSeconds { get; init; } = 5;
    public int IntervalMs { get; init; } = 100;
    public int BaselineWarmupSeconds { get; init; } = 5;
    public int BaselineRequests { get; init; } = 200_000;
    public bool SkipLatency { get; init; }
    public bool SkipBaseline { get; init; }
    public bool Sqlite { get; init; } = true;
    public bool Postgres { get; init; }
    public bool BackendExplicit { get; init; }
    public bool NoBuild { get; init; }
    public string? ServerDll { get; init; }
    public bool NoPin { get; init; }
    public bool KeepDb { get; init; }
    public string? ResultsDir { get; init; }
    public List<string> PostgresSettings { get; init; } = [];
}

internal static partial class Cli
{
    private const string DeliveryUsage = "\n" + """
        deliveries options (webhook delivery: throughput from a full outbox, then detection -> delivery latency
        at a steady event rate, then an HttpClient baseline to the same receiver, one run):
          --deliveries N     deliveries in the outbox for the throughput phase (default 50000; 50k accepted)
          --warmup-deliveries N  deliveries of a second partner sent first, to warm the server (default 20000)
          --concurrency N    requests in flight: Webhooks:Concurrency of the server and the baseline (default 64)
          --rate N           events per second in the latency phase (default 1000)
          --latency-seconds S  measured seconds of the latency phase (default 25)
          --latency-warmup S   seconds fed before the measured ones, not counted (default 5)
          --interval-ms MS   one observation batch every MS ms in the latency phase (default 100)
          --baseline-warmup S  baseline warm-up seconds, not counted (default 5)
          --baseline-requests N  requests the baseline counts (default 200000: a few seconds, as it is
                             several times faster than the dispatcher)
          --backend B        sqlite | postgres | both (default sqlite; postgres starts a throwaway
                             PostgreSQL server from /usr/lib/postgresql/*/bin, pinned to core 1)
          --skip-latency     only the throughput phase (and the baseline)
          --skip-baseline    no HttpClient baseline (no ratio)
          --server-dll PATH  use an already built ProspectEvents.Server.dll instead of building it
          --no-build         reuse the last Release build in bench/results/server-build
          --no-pin           do not pin the server to core 0 and receiver / feeder / baseline to core 1
          --pg-option N=V    an extra PostgreSQL server setting (repeatable), for investigations, e.g.
                             --pg-option shared_preload_libraries=pg_stat_statements; the defaults
                             are what the results in docs/benchmarks.md were measured with
          --keep-db          keep the databases and logs in the scratch directory
          --results DIR      where to write the JSON result file (default bench/results)

        deliveries exit code: 0 = every delivery and event arrived, no request failed; 1 = something was
                              lost, failed or timed out (results invalid); 2 = usage error / setup failure.
        PASS/FAIL against the targets of docs/benchmarks.md is printed; it does not change the exit code.
        """;

    public static DeliveryOptions ParseDeliveryOptions(string[] args)
    {
        var o = new DeliveryOptions();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--deliveries": o = o with { Deliveries = Count(args, ref i) }; break;
                case "--warmup-deliveries": o = o with { WarmupDeliveries = NonNegativeInt(args, ref i) }; break;
                case "--concurrency": o = o with { Concurrency = PositiveInt(args, ref i) }; break;
                case "--rate": o = o with { LatencyRate = PositiveInt(args, ref i) }; break;
                case "--latency-seconds": o = o with { LatencySeconds = PositiveInt(args, ref i) }; break;
                case "--latency-warmup": o = o with { LatencyWarmupSeconds = NonNegativeInt(args, ref i) }; break;
                case "--interval-ms": o = o with { IntervalMs = PositiveInt(args, ref i) }; break;
                case "--baseline-warmup": o = o with { BaselineWarmupSeconds = NonNegativeInt(args, ref i) }; break;
                case "--baseline-requests": o = o with { BaselineRequests = Count(args, ref i) }; break;
                case "--backend":
                    var (sqlite, postgres) = Backends(args, ref i);
                    o = o with { Sqlite = sqlite, Postgres = postgres, BackendExplicit = true };
                    break;
                case "--skip-latency": o = o with { SkipLatency = true }; break;
                case "--skip-baseline": o = o with { SkipBaseline = true }; break;
                case "--server-dll": o = o with { ServerDll = Value(args, ref i) }; break;
                case "--no-build": o = o with { NoBuild = true }; break;
                case "--no-pin": o = o with { NoPin = true }; break;
                case "--keep-db": o = o with { KeepDb = true }; break;
                case "--pg-option": o = o with { PostgresSettings = [.. o.PostgresSettings, Value(args, ref i)] }; break;
                case "--results": o = o with { ResultsDir = Value(args, ref i) }; break;
                default: throw new CliException($"unknown deliveries option '{args[i]}' (see --help)");
            }
        }

        if (o.LatencyRate * o.IntervalMs % 1000 != 0)
        {
            throw new CliException($"--rate x --interval-ms must be a whole number of events per batch (got {o.LatencyRate} x {o.IntervalMs} ms)");
        }

        return o;
    }

    public static PostBodiesOptions ParsePostBodiesOptions(string[] args)
    {
        Uri? url = null, warmup = null;
        string? bodies = null;
        int count = 0, concurrency = 64, warmupSeconds = 5;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--url": url = new Uri(Value(args, ref i)); break;
                case "--warmup-url": warmup = new Uri(Value(args, ref i)); break;
                case "--bodies": bodies = Value(args, ref i); break;
                case "--count": count = PositiveInt(args, ref i); break;
                case "--concurrency": concurrency = PositiveInt(args, ref i); break;
                case "--warmup": warmupSeconds = NonNegativeInt(args, ref i); break;
                default: throw new CliException($"unknown post-bodies option '{args[i]}'");
            }
        }

        if (url is null || warmup is null || bodies is null || count == 0)
        {
            throw new CliException("post-bodies needs --url, --warmup-url, --bodies and --count");
        }

        if (!IsLoopback(url) || !IsLoopback(warmup))
        {
            throw new CliException($"refusing to load anything but 127.0.0.1 (got {url}, {warmup})");
        }

        return new PostBodiesOptions { Url = url, WarmupUrl = warmup, BodiesFile = bodies, Count = count, Concurrency = concurrency, WarmupSeconds = warmupSeconds };
    }

    public static FeedObservationsOptions ParseFeedObservationsOptions(string[] args)
    {
        var urls = new List<Uri>();
        string? key = null, file = null;
        int batch = 100, interval = 100, inFlight = 0;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--url": urls.Add(new Uri(Value(args, ref i))); break;
                case "--in-flight": inFlight = PositiveInt(args, ref i); break;
                case "--api-key": key = Value(args, ref i); break;
                case "--file": file = Value(args, ref i); break;
                case "--batch": batch = PositiveInt(args, ref i); break;
                case "--interval-ms": interval = PositiveInt(args, ref i); break;
                default: throw new CliException($"unknown feed-observations option '{args[i]}'");
            }
        }

        if (urls.Count == 0 || key is null || file is null)
        {
            throw new CliException("feed-observations needs --url, --api-key and --file");
        }

        if (urls.FirstOrDefault(u => !IsLoopback(u)) is { } remote)
        {
            throw new CliException($"refusing to load anything but 127.0.0.1 (got {remote})");
        }

        return new FeedObservationsOptions { Urls = urls, ApiKey = key, File = file, Batch = batch, IntervalMs = interval, InFlight = inFlight };
    }
}
