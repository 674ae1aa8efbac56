using System.Globalization;
using System.Text;

namespace ProspectEvents.Bench;

/// <summary>The time window of a fetch request: the whole year of generated events, or its last 30 days.</summary>
internal enum FetchWindow
{
    Wide,
    Narrow,
}

internal sealed record FetchOptions
{
    public int Events { get; init; } = 10_000;
    public string EventsLabel { get; init; } = "10k";
    public bool Sqlite { get; init; } = true;
    public bool Postgres { get; init; } = true;
    public List<FetchWindow> Windows { get; init; } = [FetchWindow.Narrow, FetchWindow.Wide];
    public int Seconds { get; init; } = 15;
    public int WarmupSeconds { get; init; } = 15;
    public int Connections { get; init; } = 32;
    public int Ids { get; init; } = 40;
    public bool Regenerate { get; init; }
    public bool NoBuild { get; init; }
    public bool NoPin { get; init; }
    public bool SkipBaseline { get; init; }
    public bool Memory { get; init; }
    public string? ServerDll { get; init; }
    public string? ResultsDir { get; init; }
}

internal static partial class Cli
{
    private const string FetchUsage = "\n" + """
        fetch options (trivial-GET baseline, then POST /v1/prospects/events per backend and window, one run):
          --events N         events in the store: 10k | 1M | 10M or a number (default 10k); one prospect per
                             10 events, spread over the year before 2026-12-01, three types (5:3:2)
          --backend B        sqlite | postgres | both (default both; postgres starts a throwaway server)
          --window W         narrow (last 30 days) | wide (the whole year) | both (default both)
          --seconds N        measured window per row (default 15)
          --warmup N         warm-up seconds before each window, not counted (default 15)
          --connections N    concurrent HTTP/1.1 connections (default 32)
          --ids N            prospect ids per request (default 40; 90 % of them have events)
          --regenerate       rebuild the cached SQLite database in bench/results/fetch-db/
          --skip-baseline    no baseline row (no ratio)
          --memory           SQLite, narrow window: 1M prospects ingested first (the ingest feed's snapshot 1),
                             snapshot 2 POSTed over HTTP during the load; the server's RSS sampled (window >= 120 s)
          --no-build / --server-dll PATH / --no-pin / --results DIR   as for enrollments

        """;

    public static FetchOptions ParseFetchOptions(string[] args)
    {
        var o = new FetchOptions();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--events":
                    string label = Value(args, ref i);
                    o = o with { Events = ParseCount(label), EventsLabel = label };
                    break;
                case "--backend":
                    var (sqlite, postgres) = Backends(args, ref i);
                    o = o with { Sqlite = sqlite, Postgres = postgres };
                    break;
                case "--window":
                    string w = Value(args, ref i);
                    o = o with { Windows = w == "both" ? [FetchWindow.Narrow, FetchWindow.Wide] : [ParseWindow(w)] };
                    break;
                case "--seconds": o = o with { Seconds = PositiveInt(args, ref i) }; break;
                case "--warmup": o = o with { WarmupSeconds = NonNegativeInt(args, ref i) }; break;
                case "--connections": o = o with { Connections = PositiveInt(args, ref i) }; break;
                case "--ids": o = o with { Ids = Math.Min(40, PositiveInt(args, ref i)) }; break;
                case "--regenerate": o = o with { Regenerate = true }; break;
                case "--skip-baseline": o = o with { SkipBaseline = true }; break;
                case "--memory": o = o with { Memory = true }; break;
                case "--no-build": o = o with { NoBuild = true }; break;
                case "--no-pin": o = o with { NoPin = true }; break;
                case "--server-dll": o = o with { ServerDll = Value(args, ref i) }; break;
                case "--results": o = o with { ResultsDir = Value(args, ref i) }; break;
                default: throw new CliException($"unknown fetch option '{args[i]}' (see --help)");
            }
        }

        if (o.Events < 10)
        {
            throw new CliException("--events must be at least 10");
        }

        if (o.Memory)
        {
            // The HTTP ingest of a million lines must end inside the load window, with time left to see what stays.
            o = o with { Sqlite = true, Postgres = false, Windows = [FetchWindow.Narrow], Seconds = Math.Max(o.Seconds, 120) };
        }

        return o;
    }

    public static FetchWindow ParseWindow(string s) => s switch
    {
        "narrow" => FetchWindow.Narrow,
        "wide" => FetchWindow.Wide,
        _ => throw new CliException($"unknown window '{s}' (narrow | wide | both)"),
    };

    /// <summary>10k, 1M, 10M, or a plain number.</summary>
    private static int ParseCount(string s)
    {
        long factor = 1;
        string digits = s;
        if (s.EndsWith('k') || s.EndsWith('K'))
        {
            factor = 1_000;
            digits = s[..^1];
        }
        else if (s.EndsWith('M'))
        {
            factor = 1_000_000;
            digits = s[..^1];
        }

        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n * factor <= int.MaxValue
            ? (int)(n * factor)
            : throw new CliException($"--events expects 10k, 1M, 10M or a number, got '{s}'");
    }
}

/// <summary>
/// Fetch bodies: <c>ids</c> unique prospect ids, 90 % drawn from the generated prospects (all of which have events) and
/// the rest random, all three event types, and the window's bounds. One buffer per worker, rewritten per request.
/// </summary>
internal sealed class FetchBodyFactory : IRequestBodies
{
    /// <summary>Generated event times lie in the year before this instant.</summary>
    public static readonly DateTimeOffset Anchor = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static ReadOnlySpan<byte> Hex => "0123456789abcdef"u8;

    private readonly string[] _known;
    private readonly int _ids;
    private readonly int _unknown;
    private readonly int[] _picked;
    private readonly byte[] _random = new byte[20];
    private readonly byte[] _head = "{\"prospect_ids\":["u8.ToArray();
    private readonly byte[] _tail;
    private readonly Random _rng = new();

    public FetchBodyFactory(string[] known, int ids, FetchWindow window)
    {
        _known = known;
        _ids = ids;
        _unknown = ids / 10;
        _picked = new int[ids];
        string bounds = window == FetchWindow.Wide
            ? ",\"timestamp_from\":\"2025-12-01\""
            : ",\"timestamp_from\":\"2026-11-01\",\"timestamp_to\":\"2026-11-30\"";
        _tail = Encoding.UTF8.GetBytes($"],\"event_types\":[\"prospect_changed_company\",\"prospect_changed_role\",\"prospect_job_start_anniversary\"]{bounds}}}");
        Buffer = new byte[_head.Length + (ids * 43) + _tail.Length];
    }

    public byte[] Buffer { get; }

    public static string[] ReadIds(string path) => File.ReadAllLines(path).Where(l => l.Length == 40).ToArray();

    public int Build(long n)
    {
        Span<byte> dst = Buffer;
        _head.CopyTo(dst);
        int pos = _head.Length;
        int known = Math.Min(_ids - _unknown, _known.Length);
        for (int i = 0; i < _ids; i++)
        {
            if (i > 0)
            {
                dst[pos++] = (byte)',';
            }

            dst[pos++] = (byte)'"';
            if (i < known)
            {
                int pick;
                do
                {
                    pick = _rng.Next(_known.Length);
                }
                while (_picked.AsSpan(0, i).Contains(pick));
                _picked[i] = pick;
                pos += Encoding.ASCII.GetBytes(_known[pick], dst[pos..]);
            }
            else
            {
                _rng.NextBytes(_random);
                foreach (byte b in _random)
                {
                    dst[pos++] = Hex[b >> 4];
                    dst[pos++] = Hex[b & 0xF];
                }
            }

            dst[pos++] = (byte)'"';
        }

        _tail.CopyTo(dst[pos..]);
        return pos + _tail.Length;
    }
}
