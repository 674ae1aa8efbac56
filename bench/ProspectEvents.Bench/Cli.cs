using System.Globalization;

namespace ProspectEvents.Bench;

internal sealed class CliException(string message) : Exception(message);

internal sealed record EnrollmentOptions
{
    public int Seconds { get; init; } = 15;
    // Long enough for tier-1 + dynamic PGO code on both servers (~5-10 s once the single-core tiering delay
    // is neutralised, see EnrollmentBenchmark.ServerEnvironment); the drift check in the report flags a
    // row that is still speeding up.
    public int WarmupSeconds { get; init; } = 15;
    public int Connections { get; init; } = 32;
    public int Ids { get; init; } = 20;
    /// <summary>v1, or v2: POST /v2/prospects/events/enrollments bound to a webhook the run creates.</summary>
    public string Api { get; init; } = "v1";
    public bool BaselineOnly { get; init; }
    public bool RealOnly { get; init; }
    public bool NoPin { get; init; }
    public bool NoBuild { get; init; }
    public bool DbOutsideWorkdir { get; init; }
    public string? ServerDll { get; init; }
    public string? ResultsDir { get; init; }
}

internal enum BodyKind
{
    Echo,
    Enrollment,
    Get,
    Fetch,
}

internal sealed record LoadOptions
{
    public required Uri Url { get; init; }
    /// <summary>Every server the load goes to (<c>--url</c> repeated): connection w sends to <c>Urls[w % Urls.Count]</c>.</summary>
    public IReadOnlyList<Uri> Urls { get; init; } = [];
    public BodyKind Kind { get; init; } = BodyKind.Enrollment;
    public string? ApiKey { get; init; }
    public int Seconds { get; init; } = 15;
    public int WarmupSeconds { get; init; } = 5;
    public int Connections { get; init; } = 32;
    public int Ids { get; init; } = 20;
    /// <summary>The servers whose CPU the window reports, summed (<c>--server-pid</c> repeated).</summary>
    public IReadOnlyList<int> ServerPids { get; init; } = [];
    public string? IdsFile { get; init; }
    public FetchWindow Window { get; init; } = FetchWindow.Narrow;
    /// <summary>Enrollment bodies name this webhook (a v2 POST).</summary>
    public string? WebhookId { get; init; }
}

internal static partial class Cli
{
    public const string Usage = """
        ProspectEvents benchmark harness

        usage:
          dotnet run -c Release --project bench/ProspectEvents.Bench -- enrollments [options]
          dotnet run -c Release --project bench/ProspectEvents.Bench -- ingest [options]
          dotnet run -c Release --project bench/ProspectEvents.Bench -- deliveries [options]
          dotnet run -c Release --project bench/ProspectEvents.Bench -- fetch [options]
          dotnet run -c Release --project bench/ProspectEvents.Bench -- scale [options]
          dotnet run -c Release --project bench/ProspectEvents.Bench -- generate-feed [options]

        enrollments options:
          --seconds N        measured window per server (default 15)
          --warmup N         warm-up seconds before the window, not counted (default 15)
          --connections N    concurrent HTTP/1.1 connections, one request loop each (default 32)
          --ids N            prospect ids per request (default 20; v2 takes up to 1000)
          --api v1|v2        v2: POST /v2/prospects/events/enrollments with a webhook_id (default v1)
          --baseline-only    run only the echo baseline (no real server)
          --real-only        run only the real server (no ratio is printed)
          --server-dll PATH  use an already built ProspectEvents.Server.dll instead of building it
          --no-build         reuse the last Release build in bench/results/server-build
          --no-pin           do not pin server / load generator to separate cores
          --db-outside-workdir  put the real server's SQLite file outside its working directory
                             (= content root); default keeps it inside, like the shipped data/ default
          --results DIR      where to write the JSON result file (default bench/results)

        Exit code: 0 = ran without request errors, 1 = some requests failed (results invalid),
                   2 = usage error / setup failure (build, start, readiness, smoke request).

        """ + IngestUsage + DeliveryUsage + FetchUsage + ScaleUsage;

    public static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 2;
    }

    public static EnrollmentOptions ParseEnrollmentOptions(string[] args)
    {
        var o = new EnrollmentOptions();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seconds": o = o with { Seconds = PositiveInt(args, ref i) }; break;
                case "--warmup": o = o with { WarmupSeconds = NonNegativeInt(args, ref i) }; break;
                case "--connections": o = o with { Connections = PositiveInt(args, ref i) }; break;
                case "--ids": o = o with { Ids = PositiveInt(args, ref i) }; break;
                case "--api":
                    o = o with { Api = Value(args, ref i) };
                    if (o.Api is not ("v1" or "v2")) throw new CliException($"--api takes v1 or v2, not '{o.Api}'");
                    break;
                case "--baseline-only": o = o with { BaselineOnly = true }; break;
                case "--real-only": o = o with { RealOnly = true }; break;
                case "--no-pin": o = o with { NoPin = true }; break;
                case "--no-build": o = o with { NoBuild = true }; break;
                case "--db-outside-workdir": o = o with { DbOutsideWorkdir = true }; break;
                case "--server-dll": o = o with { ServerDll = Value(args, ref i) }; break;
                case "--results": o = o with { ResultsDir = Value(args, ref i) }; break;
                default: throw new CliException($"unknown option '{args[i]}' (see --help)");
            }
        }

        if (o.BaselineOnly && o.RealOnly)
        {
            throw new CliException("--baseline-only and --real-only are mutually exclusive");
        }

        return o;
    }

    public static LoadOptions ParseLoadOptions(string[] args)
    {
        var urls = new List<Uri>();
        var pids = new List<int>();
        var o = new LoadOptions { Url = new Uri("http://127.0.0.1/") };
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--url": urls.Add(new Uri(Value(args, ref i))); break;
                case "--kind":
                    string kind = Value(args, ref i);
                    o = o with
                    {
                        Kind = kind switch
                        {
                            "echo" => BodyKind.Echo,
                            "enrollment" => BodyKind.Enrollment,
                            "get" => BodyKind.Get,
                            "fetch" => BodyKind.Fetch,
                            _ => throw new CliException($"unknown --kind '{kind}'"),
                        },
                    };
                    break;
                case "--api-key": o = o with { ApiKey = Value(args, ref i) }; break;
                case "--seconds": o = o with { Seconds = PositiveInt(args, ref i) }; break;
                case "--warmup": o = o with { WarmupSeconds = NonNegativeInt(args, ref i) }; break;
                case "--connections": o = o with { Connections = PositiveInt(args, ref i) }; break;
                case "--ids": o = o with { Ids = PositiveInt(args, ref i) }; break;
                case "--server-pid": pids.Add(PositiveInt(args, ref i)); break;
                case "--ids-file": o = o with { IdsFile = Value(args, ref i) }; break;
                case "--window": o = o with { Window = ParseWindow(Value(args, ref i)) }; break;
                case "--webhook-id": o = o with { WebhookId = Value(args, ref i) }; break;
                default: throw new CliException($"unknown loadgen option '{args[i]}'");
            }
        }

        if (urls.Count == 0)
        {
            throw new CliException("loadgen needs --url");
        }

        if (urls.FirstOrDefault(u => !IsLoopback(u)) is { } remote)
        {
            throw new CliException($"refusing to load anything but 127.0.0.1 (got {remote})");
        }

        return o with { Url = urls[0], Urls = urls, ServerPids = pids };
    }

    public static bool IsLoopback(Uri url) => string.Equals(url.Host, "127.0.0.1", StringComparison.Ordinal);

    /// <summary>The value of <c>--backend</c>: sqlite, postgres (or postgresql) or both, as (SQLite rows, PostgreSQL rows).</summary>
    private static (bool Sqlite, bool Postgres) Backends(string[] args, ref int i) => Value(args, ref i) switch
    {
        "sqlite" => (true, false),
        "postgres" or "postgresql" => (false, true),
        "both" => (true, true),
        var b => throw new CliException($"--backend must be sqlite, postgres or both, not '{b}'"),
    };

    private static string Value(string[] args, ref int i)
    {
        if (i + 1 >= args.Length)
        {
            throw new CliException($"option '{args[i]}' needs a value");
        }

        return args[++i];
    }

    private static int PositiveInt(string[] args, ref int i)
    {
        int v = NonNegativeInt(args, ref i);
        return v > 0 ? v : throw new CliException($"option '{args[i - 1]}' must be > 0");
    }

    private static int NonNegativeInt(string[] args, ref int i)
    {
        string name = args[i];
        string s = Value(args, ref i);
        return int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v)
            ? v
            : throw new CliException($"option '{name}' expects a non-negative integer, got '{s}'");
    }
}
