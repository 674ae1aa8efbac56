using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ProspectEvents.Bench;

/// <summary>
/// `ingest`: one run measures, on the same generated feed, (1) the parse-only baseline (a child process that turns
/// every line into an object with source-generated System.Text.Json from bytes, and one that only walks the tokens),
/// then per backend (2) first sight: snapshot-1 into an empty database and (3) steady state: snapshot-2.. into the
/// database that knows every prospect. Each ingest is the real `ProspectEvents.Server.dll ingest FILE`, a child
/// process: on SQLite it has both cores (the database is embedded); on PostgreSQL it is pinned to core 0 and a
/// throwaway PostgreSQL server to core 1. Prints one table, the ratios to the
/// baseline, PASS/FAIL against the targets of docs/benchmarks.md, and checks the events found against the changes the generator planted.
/// </summary>
internal static partial class IngestBenchmark
{
    private const double SqliteSteadyTarget = 200_000;
    private const double SqliteFirstSightTarget = 100_000;
    private const double PostgresSteadyTarget = 100_000;
    private const double MemoryTargetMiB = 400;
    private const string Database = "bench";
    private const string TieringMultiplier = "1";

    private sealed record Context(string Repo, string Dotnet, string BenchDll, string RunDir, string? Taskset, string? TimeBin, TimeSpan StepBound)
    {
        public string ServerDll { get; init; } = "";
    }

    private sealed record Measured(ProcessMeasure Measure, List<string> Stdout, List<(double Seconds, string Line)> Stderr, string LogPath);

    public static async Task<int> RunAsync(IngestOptions o)
    {
        var bench = await BenchRun.StartAsync("ingest", o.ResultsDir, o.NoPin);
        var pin = bench.Pin;
        var warnings = bench.Warnings;
        string repo = bench.Repo, dotnet = bench.Dotnet, resultsDir = bench.ResultsDir, runDir = bench.RunDir;
        string? timeBin = File.Exists("/usr/bin/time") ? "/usr/bin/time" : null;
        var ctx = new Context(repo, dotnet, bench.BenchDll, runDir, pin.Taskset, timeBin, TimeSpan.FromMinutes(o.StepTimeoutMinutes));

        string? pgBin = o.Postgres ? await BenchPostgres.FindBinariesAsync(o.BackendExplicit, warnings) : "";
        if (pgBin is null)
        {
            return 2;
        }

        bool runPostgres = pgBin.Length > 0;
        string pinning = pin.Taskset is null
            ? pin.Description
            : $"parse baseline{(runPostgres ? " and PostgreSQL ingest process" : "")} -> core 0 (`taskset -c 0`){(runPostgres ? "; PostgreSQL server -> core 1 (`taskset -c 1`)" : "")}; SQLite ingest process unpinned (both cores; SQLite runs inside it)";
        bench.PrintHeader(pinning,
            $"measure : {(timeBin is null ? "peak RSS sampled from /proc/<pid>/status VmHWM every 100 ms (no /usr/bin/time)" : "peak RSS and CPU user/sys from /usr/bin/time -v (kernel rusage of the child)")}");
        if (pin.Taskset is null)
        {
            warnings.Add($"not pinned: {pin.Description}");
        }

        // 1. Feed: reuse bench/results/feeds/<params> when complete, else generate (unpinned, both cores).
        string feedDir = FeedGenerator.DefaultDirectory(resultsDir, o.Prospects, o.Snapshots, o.Seed, o.Gzip);
        FeedManifest? feed = o.Regenerate ? null : FeedGenerator.TryLoad(feedDir);
        if (feed is null)
        {
            Console.WriteLine($"feed    : generating into {feedDir}");
            feed = FeedGenerator.Generate(feedDir, o.Prospects, o.Snapshots, o.Seed, o.Gzip, l => Console.WriteLine("          " + l));
        }
        else
        {
            Console.WriteLine($"feed    : reusing {feedDir} (delete it or pass --regenerate to rebuild)");
        }

        FeedGenerator.PrintPlanted(feed, feedDir);
        string[] feedFiles = [.. feed.Files.Select(f => Path.Combine(feedDir, f.File))];

        // 2. The real server, built like the enrollment benchmark builds it.
        if (await bench.ServerAsync(o.ServerDll, o.NoBuild) is not (var serverDll, var source))
        {
            return 2;
        }

        ctx = ctx with { ServerDll = serverDll };

        Console.WriteLine();

        // 3. Parse-only baselines.
        var baselines = new List<BaselineRow>();
        if (!o.SkipBaseline)
        {
            foreach (string mode in new[] { "stj", "walk" })
            {
                Console.WriteLine($"== baseline: parse only ({(mode == "stj" ? "source-generated System.Text.Json into an object" : "Utf8JsonReader token walk, no object")}), all {feedFiles.Length} files, one process ==");
                var row = await RunBaselineAsync(ctx, mode, feedFiles);
                if (row is null)
                {
                    return Finish(2);
                }

                baselines.Add(row);
                Console.WriteLine();
            }
        }

        double? baseline = baselines.FirstOrDefault(b => b.Mode == "stj-sourcegen")?.ObservationsPerSecond;

        // 4. Backends.
        var rows = new List<IngestRow>();
        var checks = new List<EventCheck>();
        string? sqliteSettings = null, postgresSettings = null;
        bool setupFailed = false;
        if (o.Sqlite)
        {
            string dbDir = Path.Combine(runDir, "sqlite");
            Directory.CreateDirectory(dbDir);
            string db = Path.Combine(dbDir, "bench.db");
            var env = IngestEnvironment("sqlite", $"Data Source={db}");
            Console.WriteLine($"== SQLite: {db} ==");
            // Unpinned: the embedded database has the machine to itself, and ingest parses on one core while it writes on the other.
            rows.AddRange(await RunBackendAsync(ctx with { Taskset = null }, "sqlite", env, feed, feedDir, baseline,
                dbBytes: () => Task.FromResult<long?>(FileSize(db) + FileSize(db + "-wal")), databaseCpu: null));
            string? sqlite3 = Pinning.Which("sqlite3");
            if (sqlite3 is not null && File.Exists(db))
            {
                var pragmas = await ProcessRunner.RunAsync(sqlite3, [db, "PRAGMA journal_mode; PRAGMA page_size; PRAGMA page_count;"], TimeSpan.FromMinutes(1));
                string[] p = pragmas.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                sqliteSettings = p.Length >= 3
                    ? $"journal_mode={p[0]}, page_size={p[1]}, pages={p[2]}; the server's writer sets synchronous=NORMAL and cache_size=-65536 (64 MiB) (src/ProspectEvents.Storage/SqliteStore.cs)"
                    : null;
                checks.Add(await CheckEventsAsync("sqlite", feed, feedDir,
                    () => ProcessRunner.RunAsync(sqlite3, ["-separator", "\t", db, "SELECT lower(hex(prospect_id)), event_name, observed_at, data FROM events"], TimeSpan.FromMinutes(5))));
            }
            else
            {
                warnings.Add("sqlite3 CLI not found: events were only counted, not matched one by one against the planted changes");
            }

            if (o.KeepDb)
            {
                Console.WriteLine($"kept    : {db}");
            }
            else
            {
                BenchEnv.TryDelete(dbDir);
            }

            Console.WriteLine();
        }

        if (runPostgres)
        {
            var (pg, settings) = await BenchPostgres.StartAnnouncedAsync(pgBin!, pin.Taskset, Database);
            setupFailed |= pg is null;
            if (pg is not null)
            {
                await using (pg)
                {
                    postgresSettings = settings.Ok ? settings.Stdout.Trim() : settings.Describe("psql settings");
                    var env = IngestEnvironment("postgres", pg.ConnectionString(Database));
                    rows.AddRange(await RunBackendAsync(ctx, "postgres", env, feed, feedDir, baseline,
                        dbBytes: async () =>
                        {
                            var r = await pg.PsqlAsync(Database, $"SELECT pg_database_size('{Database}')");
                            return long.TryParse(r.Stdout.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long b) ? b : null;
                        },
                        databaseCpu: pg.CpuSeconds));
                    checks.Add(await CheckEventsAsync("postgres", feed, feedDir,
                        () => pg.PsqlAsync(Database, "SELECT encode(prospect_id, 'hex'), event_name, observed_at, data FROM events", TimeSpan.FromMinutes(5))));
                }

                Console.WriteLine("stopped : PostgreSQL (pg_ctl stop -m fast), data directory removed");
            }

            Console.WriteLine();
        }

        // 5. Report.
        var targets = Targets(rows, checks, feed);
        bool valid = !setupFailed && rows.Count > 0 && rows.All(r => r.Error is null);
        foreach (var r in rows)
        {
            if (r.Process.CoreBusyPercent.Length > 0 && r.Process.WallSeconds > 0)
            {
                double own = 100 * (r.Process.UserSeconds + r.Process.SysSeconds) / r.Process.WallSeconds;
                double other = r.Process.CoreBusyPercent[0] - own;
                if (pin.Taskset is not null && other > 10)
                {
                    warnings.Add($"{r.Backend} {r.File}: other processes used ~{other:F0}% of core 0 during the ingest: the number is disturbed, consider re-running");
                }
            }
        }

        if (o.Prospects < 1_000_000)
        {
            warnings.Add($"this run used {o.Prospects:N0} prospects; the targets are stated for 1M (the database is smaller, so it caches better): indicative only");
        }

        var report = bench.Stamped(new IngestReport
        {
            FeedDirectory = feedDir,
            Feed = feed,
            SqliteSettings = sqliteSettings,
            PostgresSettings = postgresSettings,
            Baselines = baselines,
            Rows = rows,
            EventChecks = checks,
            Targets = targets,
            Warnings = warnings,
            Valid = valid,
            TotalSeconds = bench.TotalSeconds,
        }, source, pinning);
        PrintReport(bench, report);
        await bench.WriteResultAsync("ingest", report, IngestJsonContext.Default.IngestReport);
        return Finish(setupFailed ? 2 : valid ? 0 : 1);

        int Finish(int code) => bench.Finish(code, o.KeepDb);
    }

    private static Dictionary<string, string?> IngestEnvironment(string provider, string connectionString) => new(StringComparer.Ordinal)
    {
        ["Storage__Provider"] = provider,
        ["Storage__ConnectionString"] = connectionString,
        ["Logging__LogLevel__Default"] = "Warning",
        // Pinned to one core the runtime sees ProcessorCount = 1 and delays tiered JIT 10x (see docs/benchmarks.md).
        ["DOTNET_TC_DelaySingleProcMultiplier"] = TieringMultiplier,
        ["DOTNET_ENVIRONMENT"] = "Production",
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
    };

    private static async Task<BaselineRow?> RunBaselineAsync(Context ctx, string mode, string[] files)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal) { ["DOTNET_TC_DelaySingleProcMultiplier"] = TieringMultiplier };
        var m = await MeasureAsync(ctx, $"parse-{mode}", [ctx.BenchDll, "parse-feed", "--mode", mode, .. files], env, ctx.RunDir);
        foreach (var (_, line) in m.Stderr)
        {
            Console.WriteLine($"          {line}");
        }

        string? json = m.Stdout.LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal))?["RESULT ".Length..];
        if (m.Measure.ExitCode != 0 || json is null)
        {
            Console.Error.WriteLine($"error: parse baseline ({mode}) exited with {Describe(m.Measure)} and no result; log {m.LogPath}");
            return null;
        }

        var r = JsonSerializer.Deserialize(json, IngestJsonContext.Default.ParseResult)!;
        // The first file pays for JIT warm-up (large at small sizes); the warm files are the baseline.
        var warm = r.Files.Count > 1 ? r.Files.Skip(1).ToList() : r.Files;
        double parseSeconds = warm.Sum(f => f.Seconds);
        var row = new BaselineRow
        {
            Mode = r.Mode,
            Lines = warm.Sum(f => f.Lines),
            Seconds = Math.Round(parseSeconds, 3),
            ObservationsPerSecond = warm.Sum(f => f.Lines) / parseSeconds,
            FirstFileObservationsPerSecond = r.Files[0].Lines / r.Files[0].Seconds,
            ObservationsPerSecondWall = r.Lines / m.Measure.WallSeconds, // all files, process start included
            Files = r.Files,
            Process = m.Measure,
        };
        if (r.Files.Any(f => f.Failed > 0))
        {
            Console.WriteLine($"WARNING : {r.Files.Sum(f => f.Failed)} lines did not parse");
        }

        Console.WriteLine($"result  : {row.ObservationsPerSecond:N0} obs/s warm (files 2..{r.Files.Count}); first file incl. JIT warm-up {row.FirstFileObservationsPerSecond:N0}/s; all files over the process wall time {r.Lines / m.Measure.WallSeconds:N0}/s ({m.Measure.WallSeconds:F1}s), " +
            $"peak RSS {m.Measure.PeakRssKb / 1024.0:F0} MiB, CPU {m.Measure.UserSeconds:F1}s usr + {m.Measure.SysSeconds:F1}s sys, affinity {m.Measure.Affinity ?? "n/a"}");
        return row;
    }

    private static async Task<List<IngestRow>> RunBackendAsync(
        Context ctx, string backend, Dictionary<string, string?> env, FeedManifest feed, string feedDir, double? baseline,
        Func<Task<long?>> dbBytes, Func<(double User, double Sys)>? databaseCpu)
    {
        var rows = new List<IngestRow>();
        string workDir = Path.Combine(ctx.RunDir, backend + "-work");
        Directory.CreateDirectory(workDir);
        foreach (var file in feed.Files)
        {
            string step = file.Snapshot == 1 ? "first sight" : "steady state";
            string path = Path.Combine(feedDir, file.File);
            Console.WriteLine($"-- {backend}, {step}: ingest {file.File} ({file.Lines:N0} lines, expect {file.ExpectedEvents:N0} events, {file.Duplicates:N0} stale)");
            var cpuBefore = databaseCpu?.Invoke();
            var m = await MeasureAsync(ctx, $"ingest-{backend}-{file.Snapshot}", [ctx.ServerDll, "ingest", path], env, workDir);
            var cpuAfter = databaseCpu?.Invoke();

            string? json = m.Stdout.LastOrDefault(l => l.TrimStart().StartsWith('{') && l.Contains("\"observations\"", StringComparison.Ordinal));
            IngestVerbSummary? summary = null;
            if (json is not null)
            {
                try
                {
                    summary = JsonSerializer.Deserialize(json, IngestJsonContext.Default.IngestVerbSummary);
                }
                catch (JsonException)
                {
                    // Reported below as a missing summary.
                }
            }

            string? error = m.Measure.TimedOut ? $"timed out after {ctx.StepBound.TotalMinutes:F0} min (killed)"
                : m.Measure.ExitCode != 0 ? $"exit code {m.Measure.ExitCode}"
                : summary is null ? "no JSON summary on stdout"
                : summary.Rejected > 0 ? $"{summary.Rejected} lines rejected"
                : null;
            var progress = Progress(m.Stderr);
            double? rate = summary is { Seconds: > 0 } ? summary.Observations / summary.Seconds : null;
            var row = new IngestRow
            {
                Backend = backend,
                Step = step,
                Snapshot = file.Snapshot,
                File = file.File,
                Summary = summary,
                ExpectedEvents = file.ExpectedEvents,
                ExpectedStale = file.Duplicates,
                Lines = file.Lines,
                ObservationsPerSecond = rate,
                ObservationsPerSecondWall = summary is not null && m.Measure.WallSeconds > 0 ? summary.Observations / m.Measure.WallSeconds : null,
                RatioToBaseline = rate is not null && baseline is > 0 ? rate / baseline : null,
                Process = m.Measure,
                Progress = progress,
                DatabaseCpuUser = cpuBefore is { } b && cpuAfter is { } a ? Math.Round(a.User - b.User, 2) : null,
                DatabaseCpuSys = cpuBefore is { } b2 && cpuAfter is { } a2 ? Math.Round(a2.Sys - b2.Sys, 2) : null,
                DatabaseBytesAfter = await dbBytes(),
                RejectedSamples = [.. m.Stderr.Select(s => s.Line).Where(l => l.StartsWith("line ", StringComparison.Ordinal)).Take(5)],
                Error = error,
            };
            rows.Add(row);

            Console.WriteLine($"result  : {(summary is null ? "no summary" : $"{summary.Observations:N0} observations in {summary.Seconds:F1}s = {rate:N0}/s (wall {m.Measure.WallSeconds:F1}s = {row.ObservationsPerSecondWall:N0}/s); " + $"events {summary.Events:N0} (planted {file.ExpectedEvents:N0}), stale {summary.Stale:N0} (duplicates {file.Duplicates:N0}), rejected {summary.Rejected:N0}")}");
            Console.WriteLine($"          peak RSS {m.Measure.PeakRssKb / 1024.0:F0} MiB, CPU {m.Measure.UserSeconds:F1}s usr + {m.Measure.SysSeconds:F1}s sys of {m.Measure.WallSeconds:F1}s wall, " +
                $"ctx switches {m.Measure.VoluntaryContextSwitches:N0} vol / {m.Measure.InvoluntaryContextSwitches:N0} invol, fs writes {m.Measure.FileSystemOutputs:N0} x 512 B, affinity {m.Measure.Affinity ?? "n/a"}" +
                (row.DatabaseCpuUser is { } du ? $", PostgreSQL CPU {du:F1}s usr + {row.DatabaseCpuSys:F1}s sys" : "") +
                (row.DatabaseBytesAfter is { } bytes ? $", database {bytes / 1048576.0:F0} MiB after" : ""));
            if (progress is not null)
            {
                Console.WriteLine($"          progress: {progress.Intervals} intervals of ~1 s: first tenth {progress.FirstTenthPerSecond:N0}/s, median {progress.MedianPerSecond:N0}/s, last tenth {progress.LastTenthPerSecond:N0}/s (min {progress.MinPerSecond:N0}, max {progress.MaxPerSecond:N0})");
            }

            foreach (string l in row.RejectedSamples)
            {
                Console.WriteLine($"          {l}");
            }

            if (error is not null)
            {
                Console.WriteLine($"ERROR   : {error}; log {m.LogPath}");
                Console.WriteLine(BenchEnv.Tail(string.Join('\n', m.Stderr.Select(s => s.Line)), 15));
                if (summary is null || m.Measure.TimedOut)
                {
                    Console.WriteLine($"          skipping the remaining {backend} snapshots (they need this one's state)");
                    break;
                }
            }
        }

        return rows;
    }

    private static async Task<Measured> MeasureAsync(Context ctx, string name, IReadOnlyList<string> dotnetArgs, Dictionary<string, string?> env, string workDir)
    {
        string log = Path.Combine(ctx.RunDir, name + ".log");
        string timeFile = Path.Combine(ctx.RunDir, name + ".time");
        var command = new List<string>();
        if (ctx.Taskset is not null)
        {
            command.AddRange([ctx.Taskset, "-c", "0"]);
        }

        if (ctx.TimeBin is not null)
        {
            command.AddRange([ctx.TimeBin, "-v", "-o", timeFile]);
        }

        command.Add(ctx.Dotnet);
        command.AddRange(dotnetArgs);
        var stdout = new List<string>();
        var stderr = new List<(double, string)>();
        var gate = new Lock();
        var before = ProcStats.CoreTicks();
        var sw = Stopwatch.StartNew();
        using var child = ChildProcess.Start(
            command[0], command.Skip(1), log, workDir, env,
            onStdoutLine: l =>
            {
                lock (gate)
                {
                    stdout.Add(l);
                }
            },
            onStderrLine: l =>
            {
                double t = sw.Elapsed.TotalSeconds;
                lock (gate)
                {
                    stderr.Add((t, l));
                }
            });
        string? affinity = null;
        long sampledHwm = 0;
        var wait = child.WaitAsync(ctx.StepBound);
        while (!wait.IsCompleted)
        {
            int? target = ctx.TimeBin is null ? child.Pid : FirstChild(child.Pid);
            if (target is { } t)
            {
                affinity ??= ProcStats.AffinityList(t);
                sampledHwm = Math.Max(sampledHwm, ProcStats.PeakRssKb(t));
            }

            await Task.WhenAny(wait, Task.Delay(100));
        }

        int? code = await wait;
        double wall = sw.Elapsed.TotalSeconds;
        var after = ProcStats.CoreTicks();
        var (busy, steal) = ProcStats.CorePercent(before, after);
        var time = ctx.TimeBin is not null && File.Exists(timeFile) ? ParseTime(File.ReadAllLines(timeFile)) : null;
        var measure = new ProcessMeasure
        {
            ExitCode = code,
            TimedOut = code is null,
            WallSeconds = Math.Round(wall, 3),
            UserSeconds = time?.User ?? double.NaN,
            SysSeconds = time?.Sys ?? double.NaN,
            PeakRssKb = time?.MaxRssKb ?? sampledHwm,
            RssSource = time is not null ? "time -v" : "sampled",
            VoluntaryContextSwitches = time?.Voluntary ?? 0,
            InvoluntaryContextSwitches = time?.Involuntary ?? 0,
            FileSystemOutputs = time?.FsOutputs ?? 0,
            Affinity = affinity,
            CoreBusyPercent = busy,
            CoreStealPercent = steal,
        };
        lock (gate)
        {
            return new Measured(measure, [.. stdout], [.. stderr], log);
        }
    }

    private sealed record TimeOutput(double User, double Sys, long MaxRssKb, long Voluntary, long Involuntary, long FsOutputs);

    private static TimeOutput? ParseTime(string[] lines)
    {
        double user = double.NaN, sys = double.NaN;
        long rss = 0, vol = 0, invol = 0, fsOut = 0;
        foreach (string raw in lines)
        {
            string line = raw.Trim();
            int colon = line.LastIndexOf(": ", StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            string key = line[..colon];
            string value = line[(colon + 2)..].Trim();
            switch (key)
            {
                case "User time (seconds)": user = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "System time (seconds)": sys = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "Maximum resident set size (kbytes)": rss = long.Parse(value, CultureInfo.InvariantCulture); break;
                case "Voluntary context switches": vol = long.Parse(value, CultureInfo.InvariantCulture); break;
                case "Involuntary context switches": invol = long.Parse(value, CultureInfo.InvariantCulture); break;
                case "File system outputs": fsOut = long.Parse(value, CultureInfo.InvariantCulture); break;
                default: break;
            }
        }

        return double.IsNaN(user) ? null : new TimeOutput(user, sys, rss, vol, invol, fsOut);
    }

    private static int? FirstChild(int pid)
    {
        try
        {
            string children = File.ReadAllText($"/proc/{pid}/task/{pid}/children");
            string first = children.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
            return int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out int c) ? c : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^\s*([\d,]+) rows,")]
    private static partial Regex ProgressLine();

    /// <summary>Rates between consecutive progress lines ("N rows, R/s, E events, X rejected"), about one a second.</summary>
    private static ProgressStats? Progress(List<(double Seconds, string Line)> stderr)
    {
        var samples = new List<(double T, long Rows)>();
        foreach (var (t, line) in stderr)
        {
            var match = ProgressLine().Match(line);
            if (match.Success && long.TryParse(match.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out long rows))
            {
                samples.Add((t, rows));
            }
        }

        var rates = new List<double>();
        for (int i = 1; i < samples.Count; i++)
        {
            double dt = samples[i].T - samples[i - 1].T;
            long dr = samples[i].Rows - samples[i - 1].Rows;
            if (dt >= 0.3 && dr > 0)
            {
                rates.Add(dr / dt);
            }
        }

        if (rates.Count < 3)
        {
            return null;
        }

        int tenth = Math.Max(1, rates.Count / 10);
        var sorted = rates.Order().ToList();
        return new ProgressStats
        {
            Intervals = rates.Count,
            FirstTenthPerSecond = Math.Round(rates.Take(tenth).Average()),
            MedianPerSecond = Math.Round(sorted[sorted.Count / 2]),
            LastTenthPerSecond = Math.Round(rates.Skip(rates.Count - tenth).Average()),
            MinPerSecond = Math.Round(sorted[0]),
            MaxPerSecond = Math.Round(sorted[^1]),
        };
    }

    private static long FileSize(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    private static string Describe(ProcessMeasure m) => m.TimedOut ? "timeout" : m.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?";

    /// <summary>
    /// Matches every stored event against planted.tsv: the same prospect, the same snapshot (by the event's
    /// observed_at date) and the same kind. Prints a few examples of each mismatch with the prospect's lines.
    /// </summary>
    internal static async Task<EventCheck> CheckEventsAsync(string backend, FeedManifest feed, string feedDir, Func<Task<ProcessResult>> listEvents)
    {
        long plantedCompany = feed.Files.Sum(f => (long)f.PlantedCompanyChanges);
        long plantedRole = feed.Files.Sum(f => (long)f.PlantedRoleChanges);
        var list = await listEvents();
        if (!list.Ok)
        {
            string err = list.Describe("listing events");
            Console.WriteLine($"events  : could not list events: {err}");
            return new EventCheck
            {
                Backend = backend, FoundByName = [], PlantedCompany = plantedCompany, PlantedRole = plantedRole,
                Matched = 0, Unexpected = 0, Missing = 0, Examples = [], Error = err,
            };
        }

        var planted = new Dictionary<(int, string), string>();
        foreach (string line in File.ReadLines(Path.Combine(feedDir, FeedGenerator.PlantedName)).Skip(1))
        {
            string[] f = line.Split('\t');
            if (f.Length == 3)
            {
                planted[(int.Parse(f[0], CultureInfo.InvariantCulture), f[1])] = f[2];
            }
        }

        var snapshotByDate = feed.Files.ToDictionary(f => f.ObservedDate, f => f.Snapshot, StringComparer.Ordinal);
        var byName = new Dictionary<string, long>(StringComparer.Ordinal);
        var matched = new HashSet<(int, string)>();
        var unexpected = new List<EventExample>();
        long unexpectedCount = 0;
        foreach (string line in list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = line.Split('\t', 4);
            if (f.Length < 3)
            {
                continue;
            }

            string pid = f[0].Trim().ToLowerInvariant();
            string name = f[1];
            byName[name] = byName.GetValueOrDefault(name) + 1;
            string date = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(f[2], CultureInfo.InvariantCulture)).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            int k = snapshotByDate.GetValueOrDefault(date);
            string kind = name switch
            {
                "prospect_changed_company" => "company",
                "prospect_changed_role" => "role",
                _ => name,
            };
            if (planted.TryGetValue((k, pid), out string? want) && want == kind && matched.Add((k, pid)))
            {
                continue;
            }

            unexpectedCount++;
            if (unexpected.Count < 3)
            {
                unexpected.Add(new EventExample
                {
                    Problem = want is null ? "event without a planted change" : $"planted {want} change, found {name}",
                    Snapshot = k, ProspectId = pid, EventName = name, EventData = f.Length > 3 ? f[3] : null, Lines = [],
                });
            }
        }

        var missingKeys = planted.Keys.Where(key => !matched.Contains(key)).ToList();
        var examples = unexpected.Concat(missingKeys.Take(3).Select(key => new EventExample
        {
            Problem = $"planted {planted[key]} change, no event", Snapshot = key.Item1, ProspectId = key.Item2, Lines = [],
        })).ToList();
        if (examples.Count > 0)
        {
            var lines = FindLines(feed, feedDir, examples.Select(e => e.ProspectId).ToHashSet(StringComparer.Ordinal));
            examples = [.. examples.Select(e => e with { Lines = lines.GetValueOrDefault(e.ProspectId) ?? [] })];
        }

        var check = new EventCheck
        {
            Backend = backend,
            FoundByName = byName,
            PlantedCompany = plantedCompany,
            PlantedRole = plantedRole,
            Matched = matched.Count,
            Unexpected = unexpectedCount,
            Missing = missingKeys.Count,
            Examples = examples,
        };
        Console.WriteLine($"events  : {backend}: stored {string.Join(", ", byName.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value:N0}"))}; " +
            $"planted company {plantedCompany:N0}, role {plantedRole:N0}; matched {check.Matched:N0}, unexpected {check.Unexpected:N0}, missing {check.Missing:N0}");
        foreach (var e in examples)
        {
            Console.WriteLine($"  MISMATCH ({e.Problem}) prospect {e.ProspectId}, snapshot {e.Snapshot}{(e.EventData is null ? "" : $", event data {e.EventData}")}");
            foreach (string l in e.Lines)
            {
                Console.WriteLine($"    {l}");
            }
        }

        return check;
    }

    /// <summary>Every line of the given prospects, prefixed with their file, in snapshot order.</summary>
    private static Dictionary<string, List<string>> FindLines(FeedManifest feed, string feedDir, HashSet<string> prospects)
    {
        var found = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        byte[] key = "\"prospect_id\":\""u8.ToArray();
        foreach (var file in feed.Files)
        {
            using var fs = File.OpenRead(Path.Combine(feedDir, file.File));
            using Stream s = feed.Gzip ? new GZipStream(fs, CompressionMode.Decompress) : fs;
            using var reader = new StreamReader(s, Encoding.UTF8, false, 1 << 20);
            while (reader.ReadLine() is { } line)
            {
                int at = line.IndexOf("\"prospect_id\":\"", StringComparison.Ordinal);
                if (at < 0 || at + key.Length + 40 > line.Length)
                {
                    continue;
                }

                string pid = line.Substring(at + key.Length, 40).ToLowerInvariant();
                if (prospects.Contains(pid))
                {
                    if (!found.TryGetValue(pid, out var l))
                    {
                        found[pid] = l = [];
                    }

                    l.Add($"{file.File}: {line}");
                }
            }
        }

        return found;
    }

    private static List<TargetCheck> Targets(List<IngestRow> rows, List<EventCheck> checks, FeedManifest feed)
    {
        var targets = new List<TargetCheck>();
        void Rate(string backend, string step, string name, double target)
        {
            var r = rows.Where(x => x.Backend == backend && x.Step == step).ToList();
            if (r.Count == 0)
            {
                return;
            }

            var rates = r.Select(x => x.ObservationsPerSecond).ToList();
            bool complete = rates.All(x => x is not null) && r.All(x => x.Error is null);
            targets.Add(new TargetCheck
            {
                Name = name,
                Target = $">= {target:N0} obs/s",
                Measured = string.Join(", ", r.Select(x => $"{x.File}: {(x.ObservationsPerSecond is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : x.Error)}")),
                Pass = complete && rates.All(x => x >= target),
            });
        }

        Rate("sqlite", "steady state", "SQLite steady state", SqliteSteadyTarget);
        Rate("sqlite", "first sight", "SQLite first sight", SqliteFirstSightTarget);
        Rate("postgres", "steady state", "PostgreSQL steady state", PostgresSteadyTarget);
        if (rows.Count > 0)
        {
            var peak = rows.MaxBy(x => x.Process.PeakRssKb)!;
            targets.Add(new TargetCheck
            {
                Name = "Memory (peak RSS of the ingest process)",
                Target = $"<= {MemoryTargetMiB:F0} MB",
                Measured = $"{peak.Process.PeakRssKb / 1024.0:F0} MiB ({peak.Backend} {peak.File}) with {feed.Prospects:N0} prospects",
                Pass = rows.All(x => x.Process.PeakRssKb > 0 && x.Process.PeakRssKb / 1024.0 <= MemoryTargetMiB),
            });
        }

        foreach (string backend in rows.Select(r => r.Backend).Distinct())
        {
            var r = rows.Where(x => x.Backend == backend).ToList();
            long found = r.Sum(x => x.Summary?.Events ?? 0), expected = r.Sum(x => (long)x.ExpectedEvents);
            long stale = r.Sum(x => x.Summary?.Stale ?? 0), dups = r.Sum(x => (long)x.ExpectedStale);
            var check = checks.FirstOrDefault(c => c.Backend == backend && c.Error is null);
            targets.Add(new TargetCheck
            {
                Name = $"{backend}: events found = planted changes (cosmetic noise adds none)",
                Target = "equal, each event matched to its planted change",
                Measured = $"found {found:N0}, planted {expected:N0}" + (check is null ? "" : $"; matched {check.Matched:N0}, unexpected {check.Unexpected:N0}, missing {check.Missing:N0}"),
                Pass = found == expected && (check is null || (check.Unexpected == 0 && check.Missing == 0)),
            });
            targets.Add(new TargetCheck
            {
                Name = $"{backend}: stale = duplicate lines",
                Target = "equal",
                Measured = $"stale {stale:N0}, duplicates {dups:N0}",
                Pass = stale == dups,
            });
        }

        return targets;
    }

    private static void PrintReport(BenchRun bench, IngestReport r)
    {
        Console.WriteLine($"== Ingest (parse, detect, persist): {r.Feed.Prospects:N0} prospects x {r.Feed.Snapshots} snapshots, ~{r.Feed.AverageLineBytes:F0} B lines ==");
        Console.WriteLine();
        Console.WriteLine("| row | file | observations | obs/s (verb) | obs/s (process wall) | x parse baseline | events (planted) | stale (dups) | peak RSS MiB | CPU usr + sys s | core 0 busy | core 1 busy |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var b in r.Baselines)
        {
            Console.WriteLine($"| parse only ({b.Mode}) | snapshots 2..{b.Files.Count} (warm) | {b.Lines:N0} | {b.ObservationsPerSecond:N0} | {b.ObservationsPerSecondWall:N0} (all files) | {(b.Mode == "stj-sourcegen" ? "1" : $"{b.ObservationsPerSecond / r.Baselines[0].ObservationsPerSecond:F2}")} | – | – | " +
                $"{b.Process.PeakRssKb / 1024.0:F0} | {b.Process.UserSeconds:F1} + {b.Process.SysSeconds:F1} | {Core(b.Process, 0)} | {Core(b.Process, 1)} |");
        }

        foreach (var x in r.Rows)
        {
            var s = x.Summary;
            Console.WriteLine($"| {x.Backend} {x.Step} | {x.File} | {(s is null ? "–" : s.Observations.ToString("N0", CultureInfo.InvariantCulture))} | " +
                $"{(x.ObservationsPerSecond is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : x.Error)} | {(x.ObservationsPerSecondWall is { } w ? w.ToString("N0", CultureInfo.InvariantCulture) : "–")} | " +
                $"{(x.RatioToBaseline is { } ratio ? ratio.ToString("F3", CultureInfo.InvariantCulture) : "–")} | {(s is null ? "–" : s.Events.ToString("N0", CultureInfo.InvariantCulture))} ({x.ExpectedEvents:N0}) | " +
                $"{(s is null ? "–" : s.Stale.ToString("N0", CultureInfo.InvariantCulture))} ({x.ExpectedStale:N0}) | {x.Process.PeakRssKb / 1024.0:F0} | {x.Process.UserSeconds:F1} + {x.Process.SysSeconds:F1} | {Core(x.Process, 0)} | {Core(x.Process, 1)} |");
        }

        Console.WriteLine();
        Console.WriteLine("obs/s (verb) = observations / the verb's own \"seconds\" (read, parse, detect, write; excludes process start and migration);");
        Console.WriteLine("obs/s (process wall) = observations / wall time of the whole child process. x parse baseline = obs/s (verb) / warm parse-only stj obs/s.");
        foreach (var b in r.Baselines)
        {
            Console.WriteLine($"parse only ({b.Mode}): first file, including JIT warm-up, {b.FirstFileObservationsPerSecond:N0}/s; " +
                string.Join(", ", b.Files.Select(f => $"{f.File} {f.Lines / f.Seconds:N0}/s ({f.Bytes / f.Seconds / 1e6:F0} MB/s)")));
        }
        foreach (var x in r.Rows.Where(x => x.Summary is { Observations: > 0 }))
        {
            double n = x.Summary!.Observations;
            double own = x.Process.UserSeconds + x.Process.SysSeconds;
            Console.WriteLine($"{x.Backend} {x.File}: {1e6 * own / n:F1} µs CPU per observation in the ingest process ({100 * x.Process.SysSeconds / own:F0}% sys)" +
                (x.DatabaseCpuUser is { } du ? $" + {1e6 * (du + x.DatabaseCpuSys!.Value) / n:F1} µs in PostgreSQL" : "") +
                $", {x.Process.FileSystemOutputs * 512.0 / n / 1024:F1} KiB written to the file system per observation (ru_oublock), " +
                $"{(x.Process.VoluntaryContextSwitches + x.Process.InvoluntaryContextSwitches) / n:F2} context switches per observation");
        }

        foreach (var b in r.Baselines)
        {
            Console.WriteLine($"parse only ({b.Mode}): {1e6 / b.ObservationsPerSecond:F2} µs per observation (warm)");
        }

        foreach (var x in r.Rows.Where(x => x.DatabaseCpuUser is not null))
        {
            Console.WriteLine($"{x.Backend} {x.File}: PostgreSQL server CPU {x.DatabaseCpuUser:F1}s usr + {x.DatabaseCpuSys:F1}s sys ({100 * (x.DatabaseCpuUser + x.DatabaseCpuSys) / x.Process.WallSeconds:F0}% of a core over the ingest)");
        }

        foreach (var x in r.Rows.Where(x => x.Progress is not null))
        {
            var p = x.Progress!;
            Console.WriteLine($"{x.Backend} {x.File}: per-second progress first tenth {p.FirstTenthPerSecond:N0}/s, median {p.MedianPerSecond:N0}/s, last tenth {p.LastTenthPerSecond:N0}/s");
        }

        bench.PrintVerdict("targets (docs/benchmarks.md, Targets) and checks:", r.Targets, r.Valid,
            "INCOMPLETE BENCHMARK: a step failed, timed out or rejected lines (see ERROR lines above).");
    }

    private static string Core(ProcessMeasure m, int i) => m.CoreBusyPercent.Length > i ? $"{m.CoreBusyPercent[i]:F0}%" : "n/a";
}
