using System.Globalization;

namespace ProspectEvents.Bench;

internal sealed record FeedOptions
{
    public int Prospects { get; init; } = 1_000_000;
    public int Snapshots { get; init; } = 3;
    public ulong Seed { get; init; } = 42;
    public string? Out { get; init; }
    public bool Gzip { get; init; }
}

internal sealed record IngestOptions
{
    public int Prospects { get; init; } = 1_000_000;
    public int Snapshots { get; init; } = 3;
    public ulong Seed { get; init; } = 42;
    public bool Gzip { get; init; }
    public bool Regenerate { get; init; }
    public bool Sqlite { get; init; } = true;
    public bool Postgres { get; init; } = true;
    public bool BackendExplicit { get; init; }
    public bool NoBuild { get; init; }
    public string? ServerDll { get; init; }
    public bool NoPin { get; init; }
    public bool KeepDb { get; init; }
    public bool SkipBaseline { get; init; }
    public int StepTimeoutMinutes { get; init; } = 20;
    public string? ResultsDir { get; init; }
}

internal sealed record ParseFeedOptions
{
    public bool TokenWalk { get; init; }
    public required List<string> Files { get; init; }
}

internal static partial class Cli
{
    private const string IngestUsage = "\n" + """
        ingest options (parse-only baseline, then first sight + steady state per backend, one run):
          --prospects N      prospects in the feed (default 1000000; 100k / 1M suffixes accepted)
          --snapshots S      snapshot files, a month apart (default 3; >= 2)
          --backend B        sqlite | postgres | both (default both; postgres starts a throwaway
                             PostgreSQL server from /usr/lib/postgresql/*/bin, pinned to core 1)
          --seed N           feed seed (default 42)
          --gzip             use a gzipped feed (.ndjson.gz); default plain NDJSON
          --regenerate       regenerate the feed even if bench/results/feeds/<params> has it
          --step-timeout M   minutes one ingest process may take before it is killed (default 20)
          --skip-baseline    do not run the parse-only baseline (no ratios)
          --server-dll PATH  use an already built ProspectEvents.Server.dll instead of building it
          --no-build         reuse the last Release build in bench/results/server-build
          --no-pin           do not pin the ingest process to core 0 (and PostgreSQL to core 1)
          --keep-db          keep the benchmark databases (and logs) in the scratch directory
          --results DIR      where to write the JSON result file (default bench/results)

        generate-feed options (writes snapshot-1.ndjson ... and feed.json, planted.tsv):
          --prospects N      (default 1000000)   --snapshots S (default 3)   --seed N (default 42)
          --out DIR          (default bench/results/feeds/<params>)   --gzip  write .ndjson.gz

        ingest exit code: 0 = every step ran and read every line, 1 = a step failed, timed out or
                          rejected lines, 2 = usage error / setup failure (feed, build, PostgreSQL).
        PASS/FAIL against the targets of docs/benchmarks.md is printed; it does not change the exit code.
        """;

    public static FeedOptions ParseFeedOptions(string[] args)
    {
        var o = new FeedOptions();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--prospects": o = o with { Prospects = Count(args, ref i) }; break;
                case "--snapshots": o = o with { Snapshots = PositiveInt(args, ref i) }; break;
                case "--seed": o = o with { Seed = Seed(args, ref i) }; break;
                case "--out": o = o with { Out = Value(args, ref i) }; break;
                case "--gzip": o = o with { Gzip = true }; break;
                default: throw new CliException($"unknown generate-feed option '{args[i]}' (see --help)");
            }
        }

        return o;
    }

    public static IngestOptions ParseIngestOptions(string[] args)
    {
        var o = new IngestOptions();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--prospects": o = o with { Prospects = Count(args, ref i) }; break;
                case "--snapshots": o = o with { Snapshots = PositiveInt(args, ref i) }; break;
                case "--seed": o = o with { Seed = Seed(args, ref i) }; break;
                case "--gzip": o = o with { Gzip = true }; break;
                case "--regenerate": o = o with { Regenerate = true }; break;
                case "--backend":
                    var (sqlite, postgres) = Backends(args, ref i);
                    o = o with { Sqlite = sqlite, Postgres = postgres, BackendExplicit = true };
                    break;
                case "--step-timeout": o = o with { StepTimeoutMinutes = PositiveInt(args, ref i) }; break;
                case "--skip-baseline": o = o with { SkipBaseline = true }; break;
                case "--server-dll": o = o with { ServerDll = Value(args, ref i) }; break;
                case "--no-build": o = o with { NoBuild = true }; break;
                case "--no-pin": o = o with { NoPin = true }; break;
                case "--keep-db": o = o with { KeepDb = true }; break;
                case "--results": o = o with { ResultsDir = Value(args, ref i) }; break;
                default: throw new CliException($"unknown ingest option '{args[i]}' (see --help)");
            }
        }

        if (o.Snapshots < 2)
        {
            throw new CliException("--snapshots must be at least 2 (first sight + at least one steady-state snapshot)");
        }

        return o;
    }

    public static ParseFeedOptions ParseParseFeedOptions(string[] args)
    {
        var files = new List<string>();
        bool walk = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--mode":
                    string m = Value(args, ref i);
                    walk = m switch
                    {
                        "stj" => false,
                        "walk" => true,
                        _ => throw new CliException($"parse-feed --mode must be stj or walk, not '{m}'"),
                    };
                    break;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal))
                    {
                        throw new CliException($"unknown parse-feed option '{args[i]}'");
                    }

                    files.Add(args[i]);
                    break;
            }
        }

        return files.Count == 0 ? throw new CliException("parse-feed needs at least one file") : new ParseFeedOptions { TokenWalk = walk, Files = files };
    }

    /// <summary>A positive count; accepts 100000, 100_000, 100k, 1M.</summary>
    private static int Count(string[] args, ref int i)
    {
        string name = args[i];
        string s = Value(args, ref i).Replace("_", "", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal);
        long factor = 1;
        if (s.EndsWith('k') || s.EndsWith('K'))
        {
            factor = 1_000;
            s = s[..^1];
        }
        else if (s.EndsWith('m') || s.EndsWith('M'))
        {
            factor = 1_000_000;
            s = s[..^1];
        }

        return long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v * factor is > 0 and <= 100_000_000
            ? (int)(v * factor)
            : throw new CliException($"option '{name}' expects a count between 1 and 100M (e.g. 100000, 100k, 1M), got '{args[i]}'");
    }

    private static ulong Seed(string[] args, ref int i)
    {
        string s = Value(args, ref i);
        return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong v)
            ? v
            : throw new CliException($"option '--seed' expects a non-negative integer, got '{s}'");
    }
}
