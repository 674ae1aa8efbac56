using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ProspectEvents.Bench;

/// <summary>
/// `fetch`: POST /v1/prospects/events against a store of 10k / 1M / 10M events, beside a trivial Kestrel GET as the
/// baseline, in one run (same load generator, pinning and connections). The events are generated straight into the
/// store's tables (a partner is created by the real server first, which runs the migrations): one prospect per ten
/// events, times uniform over the year before <see cref="FetchBodyFactory.Anchor"/>, three types. The SQLite database
/// is cached in bench/results/fetch-db/; PostgreSQL is generated into a throwaway server each run.
/// </summary>
internal static class FetchBenchmark
{
    /// <summary>The real server's environment on <paramref name="provider"/>: no rate limit to reach, and no retention.</summary>
    private static Dictionary<string, string?> ServerEnvironment(string provider, string connectionString) =>
        ServerChild.Environment(new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Storage__Provider"] = provider,
            ["Storage__ConnectionString"] = connectionString,
            ["RateLimiting__PermitsPerWindow"] = "1000000000",
            // The events span the year before 2026-12-01: retention would delete the oldest of them mid-run.
            ["Events__RetentionDays"] = "0",
        });

    private const string EventsPath = "/v1/prospects/events";
    private const double TargetRatio = 0.15;
    private const double TargetP99Ms = 10.0;
    private const int EventsPerProspect = 10;
    private const long YearMs = 365L * 24 * 3600 * 1000;

    public static async Task<int> RunAsync(FetchOptions o)
    {
        var bench = await BenchRun.StartAsync("fetch", o.ResultsDir, o.NoPin);
        var pin = bench.Pin;
        string repo = bench.Repo, dotnet = bench.Dotnet, benchDll = bench.BenchDll, runDir = bench.RunDir;
        bench.PrintHeader(
            $"{pin.Description}; PostgreSQL (when run) -> core 0 beside the server: the serving side gets one core on both backends",
            $"load    : {o.Connections} connections, {o.Ids} prospect ids/request ({o.Ids - (o.Ids / 10)} with events), all three types, windows {string.Join(", ", o.Windows).ToLowerInvariant()}, warm-up {o.WarmupSeconds}s (not counted) + {o.Seconds}s window per row",
            $"store   : {o.Events:N0} events over {Prospects(o.Events):N0} prospects, the year before {FetchBodyFactory.Anchor:yyyy-MM-dd}");
        Console.WriteLine();

        if (await bench.ServerAsync(o.ServerDll, o.NoBuild) is not (var serverDll, var source))
        {
            return 2;
        }

        Console.WriteLine();

        var report = bench.Stamped(new FetchReport
        {
            Events = o.Events,
            Prospects = Prospects(o.Events),
        }, source, pin.Description);
        bool setupFailed = false;

        if (!o.SkipBaseline)
        {
            Console.WriteLine("== baseline: trivial GET on a minimal Kestrel app (echo-server, GET /get) ==");
            report.Baseline = await RunBaselineAsync(new LoadPlan(o.Seconds, o.WarmupSeconds, o.Connections, o.Ids), pin, dotnet, benchDll, runDir);
            setupFailed |= report.Baseline is null;
            Console.WriteLine();
        }

        if (!setupFailed && o.Sqlite)
        {
            Console.WriteLine($"== real: ProspectEvents.Server, SQLite, {o.Events:N0} events ==");
            setupFailed |= !await RunSqliteAsync(o, pin, dotnet, benchDll, serverDll, repo, runDir, report);
            Console.WriteLine();
        }

        if (!setupFailed && o.Postgres)
        {
            Console.WriteLine($"== real: ProspectEvents.Server, PostgreSQL, {o.Events:N0} events ==");
            setupFailed |= !await RunPostgresAsync(o, pin, dotnet, benchDll, serverDll, runDir, report);
            Console.WriteLine();
        }

        if (report.Memory is { } memory)
        {
            FetchMemory.Print(memory);
        }

        report.HadErrors = (report.Baseline is { } b && b.Load.Errors + b.Load.WarmupErrors > 0) || report.Rows.Any(r => r.Row.Load.Errors + r.Row.Load.WarmupErrors > 0);
        PrintReport(report, o);
        await bench.WriteResultAsync($"fetch-{o.EventsLabel}", report, FetchJsonContext.Default.FetchReport);
        return bench.Finish(setupFailed ? 2 : report.HadErrors ? 1 : 0, keep: false);
    }

    private static int Prospects(int events) => Math.Max(1, events / EventsPerProspect);

    /// <summary>The trivial-GET baseline row: the `echo-server` child in the server's place, loaded as <paramref name="plan"/> says.</summary>
    internal static async Task<RunRow?> RunBaselineAsync(LoadPlan plan, Pinning pin, string dotnet, string benchDll, string runDir)
    {
        var started = await ServerChild.StartAsync(pin, dotnet, [benchDll, "echo-server"], Path.Combine(runDir, "echo-server.log"), runDir, ServerChild.Environment(extra: null));
        if (started is null)
        {
            return null;
        }

        using var server = started.Value.Server;
        var url = new Uri(started.Value.BaseUrl, "/get");
        using (var client = new HttpClient())
        {
            using var resp = await client.GetAsync(url);
            string text = await resp.Content.ReadAsStringAsync();
            if (!resp.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"error: baseline smoke GET returned {(int)resp.StatusCode}");
                return null;
            }

            Console.WriteLine($"smoke   : GET /get -> 200: {text}");
        }

        return await LoadGeneratorChild.MeasureAsync("baseline", plan, pin, dotnet, benchDll, server, url, "get", null, runDir, "--window", "narrow");
    }

    private static async Task<bool> RunSqliteAsync(FetchOptions o, Pinning pin, string dotnet, string benchDll, string serverDll, string repo, string runDir, FetchReport report)
    {
        string cacheDir = Path.Combine(repo, "bench", "results", "fetch-db");
        Directory.CreateDirectory(cacheDir);
        string db = Path.Combine(cacheDir, $"sqlite-{o.Events}.db");
        string ids = Path.Combine(cacheDir, $"sqlite-{o.Events}.ids");
        string workDir = Path.Combine(runDir, "sqlite");
        Directory.CreateDirectory(workDir);
        var env = ServerEnvironment("sqlite", $"Data Source={db}");

        if (o.Regenerate || !File.Exists(db) || !File.Exists(ids))
        {
            foreach (string f in new[] { db, db + "-wal", db + "-shm", ids })
            {
                BenchEnv.TryDelete(f);
            }

            if (await CreatePartnerAsync(dotnet, serverDll, env, workDir, runDir, "sqlite-migrate") is null)
            {
                return false;
            }

            var sw = Stopwatch.StartNew();
            // The secondary indexes the migrations gave the events table: dropped for the load, built again after it.
            var indexes = await ProcessRunner.RunAsync("sqlite3", [db, "SELECT name || char(9) || sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL"], TimeSpan.FromMinutes(1));
            var defs = indexes.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t', 2)).ToList();
            string script = SqliteGenerationSql(o.Events, Prospects(o.Events), ids,
                string.Concat(defs.Select(d => $"DROP INDEX {d[0]};\n")), string.Concat(defs.Select(d => d[1].Trim() + ";\n")));
            await File.WriteAllTextAsync(Path.Combine(runDir, "sqlite-generate.sql"), script);
            var gen = await ProcessRunner.RunAsync("sqlite3", [db, ".read " + Path.Combine(runDir, "sqlite-generate.sql")], TimeSpan.FromHours(1));
            if (!gen.Ok)
            {
                Console.Error.WriteLine($"error: {gen.Describe("sqlite3 generation")}");
                BenchEnv.TryDelete(ids);
                return false;
            }

            Console.WriteLine($"generate: {o.Events:N0} events into {db} in {sw.Elapsed.TotalSeconds:F0}s ({new FileInfo(db).Length / (1024.0 * 1024.0):F0} MiB)");
        }
        else
        {
            Console.WriteLine($"generate: cached {db} ({new FileInfo(db).Length / (1024.0 * 1024.0):F0} MiB; --regenerate to rebuild)");
        }

        var check = await ProcessRunner.RunAsync("sqlite3", [db, "SELECT count(*), count(DISTINCT prospect_id) FROM events"], TimeSpan.FromMinutes(10));
        Console.WriteLine($"store   : events, prospects with events = {check.Stdout.Trim().Replace('|', ' ')}");
        var plan = await ProcessRunner.RunAsync("sqlite3", [db, "EXPLAIN QUERY PLAN " + FetchSql(FetchBodyFactory.ReadIds(ids).Take(o.Ids), "x'", "'")], TimeSpan.FromMinutes(1));
        Console.WriteLine($"plan    : {plan.Stdout.Trim().ReplaceLineEndings(" / ")}");
        report.Plans["sqlite"] = plan.Stdout.Trim();

        string? ingestDuring = null;
        if (o.Memory)
        {
            (string first, ingestDuring) = FetchMemory.Feed(Path.Combine(repo, "bench", "results"));
            if (await FetchMemory.TrackProspectsAsync(dotnet, serverDll, env, db, first, workDir, runDir) is null)
            {
                return false;
            }
        }

        // An admin key when an ingest runs beside the load: it fetches as a partner's does and may post observations.
        string? apiKey = await CreatePartnerAsync(dotnet, serverDll, env, workDir, runDir, "sqlite-partner", o.Memory ? "admin" : null);
        return apiKey is not null && await ServeAndLoadAsync("sqlite", o, pin, dotnet, benchDll, serverDll, env, workDir, apiKey, ids, runDir, report, ingestDuring);
    }

    private static async Task<bool> RunPostgresAsync(FetchOptions o, Pinning pin, string dotnet, string benchDll, string serverDll, string runDir, FetchReport report)
    {
        string? bin = await ThrowawayPostgres.FindBinariesAsync();
        if (bin is null)
        {
            Console.Error.WriteLine("error: no PostgreSQL binaries (initdb, pg_ctl) found");
            return false;
        }

        await using var pg = await BenchPostgres.StartAsync(bin, pin.Taskset, "0", "bench");
        var settings = await pg.PsqlAsync("bench", "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('server_version','shared_buffers','work_mem','effective_cache_size','random_page_cost')");
        Console.WriteLine($"started : PostgreSQL port {pg.Port}, postmaster pid {pg.PostmasterPid()}, affinity {(pg.PostmasterPid() is { } pm ? ProcStats.AffinityList(pm) : "n/a")}");
        Console.WriteLine($"settings: {settings.Stdout.Trim()}");
        string workDir = Path.Combine(runDir, "postgres");
        Directory.CreateDirectory(workDir);
        var env = ServerEnvironment("postgres", pg.ConnectionString("bench"));
        string? apiKey = await CreatePartnerAsync(dotnet, serverDll, env, workDir, runDir, "postgres-partner");
        if (apiKey is null)
        {
            return false;
        }

        var sw = Stopwatch.StartNew();
        var indexes = await pg.PsqlAsync("bench", "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events' AND indexname <> 'events_pkey'");
        var defs = indexes.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t', 2)).ToList();
        var gen = await pg.PsqlAsync("bench", PostgresGenerationSql(o.Events, Prospects(o.Events),
            string.Concat(defs.Select(d => $"DROP INDEX {d[0]};\n")), string.Concat(defs.Select(d => d[1].Trim() + ";\n"))), TimeSpan.FromHours(1));
        if (!gen.Ok)
        {
            Console.Error.WriteLine($"error: {gen.Describe("PostgreSQL generation")}");
            return false;
        }

        await pg.PsqlAsync("bench", "VACUUM ANALYZE events", TimeSpan.FromHours(1));
        await pg.PsqlAsync("bench", "CHECKPOINT", TimeSpan.FromMinutes(30));
        string ids = Path.Combine(runDir, "postgres.ids");
        var exported = await pg.PsqlAsync("bench", "SELECT encode(id, 'hex') FROM bench_prospects ORDER BY i", TimeSpan.FromMinutes(10));
        await File.WriteAllTextAsync(ids, exported.Stdout);
        var size = await pg.PsqlAsync("bench", "SELECT pg_size_pretty(pg_total_relation_size('events')), (SELECT count(*) FROM events), (SELECT count(DISTINCT prospect_id) FROM events)");
        Console.WriteLine($"generate: {o.Events:N0} events in {sw.Elapsed.TotalSeconds:F0}s; events table with indexes, events, prospects with events = {size.Stdout.Trim().Replace('\t', ' ')}");
        string explain = "EXPLAIN (ANALYZE, BUFFERS) " + FetchSql(FetchBodyFactory.ReadIds(ids).Take(o.Ids), "'\\x", "'::bytea");
        var plan = await pg.PsqlAsync("bench", explain);
        Console.WriteLine($"plan    : {string.Join(Environment.NewLine + "          ", plan.Stdout.Trim().Split('\n').Select(l => BenchEnv.Shorten(l.TrimEnd(), 160)))}");
        report.Plans["postgres"] = plan.Stdout.Trim();
        return await ServeAndLoadAsync("postgres", o, pin, dotnet, benchDll, serverDll, env, workDir, apiKey, ids, runDir, report);
    }

    private static async Task<bool> ServeAndLoadAsync(
        string backend, FetchOptions o, Pinning pin, string dotnet, string benchDll, string serverDll, Dictionary<string, string?> env, string workDir, string apiKey, string ids, string runDir, FetchReport report,
        string? ingestDuring = null)
    {
        var started = await ServerChild.StartAsync(pin, dotnet, [serverDll, "serve"], Path.Combine(runDir, $"{backend}-server.log"), workDir, env);
        if (started is null)
        {
            return false;
        }

        using var server = started.Value.Server;
        var url = new Uri(started.Value.BaseUrl, EventsPath);
        foreach (var window in o.Windows)
        {
            // Smoke, and the size of a typical answer: the mean over 50 bodies of this window.
            var bodies = new FetchBodyFactory(FetchBodyFactory.ReadIds(ids), o.Ids, window);
            long eventsSeen = 0, bytesSeen = 0;
            const int Samples = 50;
            for (int i = 0; i < Samples; i++)
            {
                int len = bodies.Build(i);
                var (status, text) = await ServerChild.PostOnceAsync(url, bodies.Buffer.AsMemory(0, len), apiKey);
                if (status != 200)
                {
                    Console.Error.WriteLine($"error: smoke POST {EventsPath} returned {status}: {BenchEnv.Shorten(text, 400)}");
                    return false;
                }

                using var doc = JsonDocument.Parse(text);
                eventsSeen += doc.RootElement.GetProperty("output_events").GetArrayLength();
                bytesSeen += Encoding.UTF8.GetByteCount(text);
            }

            double perResponse = (double)eventsSeen / Samples;
            Console.WriteLine($"smoke   : {window.ToString().ToLowerInvariant()}: POST {EventsPath} -> 200, {perResponse:F1} events and {bytesSeen / Samples / 1024.0:F1} KiB per response (mean of {Samples})");
            var load = RunLoadAsync($"{backend}-{window.ToString().ToLowerInvariant()}", o, pin, dotnet, benchDll, server, url, "fetch", apiKey, ids, window, runDir);
            if (ingestDuring is not null)
            {
                report.Memory = await FetchMemory.WatchAsync(server.Pid, started.Value.BaseUrl, apiKey, ingestDuring, TimeSpan.FromSeconds(o.WarmupSeconds), load);
            }

            var row = await load;
            if (row is null)
            {
                return false;
            }

            report.Rows.Add(new FetchRow
            {
                Backend = backend,
                Window = window.ToString().ToLowerInvariant(),
                EventsPerResponse = perResponse,
                ResponseBytes = bytesSeen / Samples,
                Row = row,
                Ratio = report.Baseline is { } b && b.Load.RequestsPerSecond > 0 ? row.Load.RequestsPerSecond / b.Load.RequestsPerSecond : null,
            });
        }

        return true;
    }

    private static async Task<string?> CreatePartnerAsync(string dotnet, string serverDll, Dictionary<string, string?> env, string workDir, string runDir, string name, string? scope = null) =>
        (await ServerChild.CreatePartnerAsync(dotnet, serverDll, env, workDir, Path.Combine(runDir, $"{name}.log"), "bench", scope))?.ApiKey;

    private static Task<RunRow?> RunLoadAsync(
        string name, FetchOptions o, Pinning pin, string dotnet, string benchDll, ChildProcess server, Uri url, string kind, string? apiKey, string? ids, FetchWindow window, string runDir) =>
        LoadGeneratorChild.MeasureAsync(name, new LoadPlan(o.Seconds, o.WarmupSeconds, o.Connections, o.Ids), pin, dotnet, benchDll, server, url, kind, apiKey, runDir,
            ["--window", window.ToString().ToLowerInvariant(), .. ids is null ? Array.Empty<string>() : ["--ids-file", ids]]);

    /// <summary>The store's fetch statement with literal ids (for EXPLAIN), prefix/suffix around each id's hex.</summary>
    private static string FetchSql(IEnumerable<string> ids, string prefix, string suffix) =>
        "SELECT event_id, event_name, event_time, prospect_id, data FROM events WHERE prospect_id IN (" +
        string.Join(", ", ids.Select(i => prefix + i + suffix)) +
        ") AND event_name IN ('prospect_changed_company', 'prospect_changed_role', 'prospect_job_start_anniversary') AND event_time >= " +
        new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) +
        " AND event_time <= " + new DateTimeOffset(2026, 11, 30, 23, 59, 59, 999, TimeSpan.Zero).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) +
        " ORDER BY event_time DESC, event_id";

    private static string Anchor => FetchBodyFactory.Anchor.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Events in event_id order (sequential primary-key inserts), the secondary indexes built afterwards; the prospect
    /// ids written to <paramref name="idsFile"/>. 5:3:2 company, role and anniversary, with data of the served shape.
    /// </summary>
    private static string SqliteGenerationSql(int events, int prospects, string idsFile, string dropIndexes, string createIndexes) => $$"""
        PRAGMA synchronous=OFF;
        PRAGMA cache_size=-1000000;
        {{dropIndexes}}
        CREATE TEMP TABLE bench_prospects (i INTEGER PRIMARY KEY, id BLOB NOT NULL);
        WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < {{prospects - 1}})
        INSERT INTO bench_prospects SELECT i, randomblob(20) FROM c;
        BEGIN;
        WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < {{events - 1}}),
        r AS MATERIALIZED (SELECT lower(hex(randomblob(16))) AS id, abs(random()) % {{prospects}} AS p, {{Anchor}} - 1 - abs(random()) % {{YearMs}} AS t, abs(random()) % 10 AS k FROM c)
        INSERT INTO events (event_id, event_name, prospect_id, event_time, observed_at, detected_at, data)
        SELECT r.id,
               CASE WHEN k < 5 THEN 'prospect_changed_company' WHEN k < 8 THEN 'prospect_changed_role' ELSE 'prospect_job_start_anniversary' END,
               bp.id, t, t, t + 3600000,
               CASE WHEN k < 8
                 THEN printf('{"previous_job_title":"VP Sales","current_job_title":"%s","previous_company_name":"Acme Corp %d","previous_company_id":null,"current_company_name":"%s","current_company_id":null,"event_time":"%s"}',
                             CASE WHEN k < 5 THEN 'VP Sales' ELSE 'Chief Revenue Officer' END, r.p % 997, CASE WHEN k < 5 THEN 'Globex ' || (r.p % 991) ELSE 'Acme Corp ' || (r.p % 997) END,
                             strftime('%Y-%m-%dT%H:%M:%S+00:00', t / 1000, 'unixepoch'))
                 ELSE printf('{"full_name":"Dana Levi","company_name":"Acme Corp %d","years_at_company":%d,"job_title":"VP Sales","job_anniversary_date":"%s","linkedin_url":"https://www.linkedin.com/in/dana-levi-%d","event_time":"%s"}',
                             r.p % 997, 1 + r.p % 9, strftime('%Y-%m-%d', t / 1000, 'unixepoch'), r.p, strftime('%Y-%m-%dT00:00:00+00:00', t / 1000, 'unixepoch'))
               END
        FROM r JOIN bench_prospects bp ON bp.i = r.p
        ORDER BY r.id;
        COMMIT;
        {{createIndexes}}
        PRAGMA wal_checkpoint(TRUNCATE);
        .once {{idsFile}}
        SELECT lower(hex(id)) FROM bench_prospects ORDER BY i;
        """;

    private static string PostgresGenerationSql(int events, int prospects, string dropIndexes, string createIndexes) => $$"""
        {{dropIndexes}}
        CREATE TABLE bench_prospects AS
          SELECT i, decode(md5('p' || i) || substr(md5('q' || i), 1, 8), 'hex') AS id FROM generate_series(0, {{prospects - 1}}) AS i;
        CREATE UNIQUE INDEX ON bench_prospects (i);
        INSERT INTO events (event_id, event_name, prospect_id, event_time, observed_at, detected_at, data)
        WITH r AS MATERIALIZED (
          SELECT md5('e' || i) AS id, floor(random() * {{prospects}})::int AS p, {{Anchor}} - 1 - floor(random() * {{YearMs}})::bigint AS t, floor(random() * 10)::int AS k
          FROM generate_series(0, {{events - 1}}) AS i)
        SELECT r.id,
               CASE WHEN k < 5 THEN 'prospect_changed_company' WHEN k < 8 THEN 'prospect_changed_role' ELSE 'prospect_job_start_anniversary' END,
               bp.id, t, t, t + 3600000,
               CASE WHEN k < 8
                 THEN format('{"previous_job_title":"VP Sales","current_job_title":"%s","previous_company_name":"Acme Corp %s","previous_company_id":null,"current_company_name":"%s","current_company_id":null,"event_time":"%s"}',
                             CASE WHEN k < 5 THEN 'VP Sales' ELSE 'Chief Revenue Officer' END, r.p % 997, CASE WHEN k < 5 THEN 'Globex ' || (r.p % 991) ELSE 'Acme Corp ' || (r.p % 997) END,
                             to_char(to_timestamp(t / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'))
                 ELSE format('{"full_name":"Dana Levi","company_name":"Acme Corp %s","years_at_company":%s,"job_title":"VP Sales","job_anniversary_date":"%s","linkedin_url":"https://www.linkedin.com/in/dana-levi-%s","event_time":"%s"}',
                             r.p % 997, 1 + r.p % 9, to_char(to_timestamp(t / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), r.p, to_char(to_timestamp(t / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T00:00:00+00:00"'))
               END
        FROM r JOIN bench_prospects bp ON bp.i = r.p
        ORDER BY r.id;
        {{createIndexes}}
        """;

    private static void PrintReport(FetchReport r, FetchOptions o)
    {
        Console.WriteLine($"== Fetch POST {EventsPath} ({o.Ids} ids, {r.Events:N0} events, {o.Connections} connections), {o.Seconds}s window after {o.WarmupSeconds}s warm-up ==");
        Console.WriteLine();
        Console.WriteLine("| run | events/resp | req/s | ratio | p50 ms | p99 ms | p99.9 ms | max ms | errors | server CPU/req | server peak RSS |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        if (r.Baseline is { } b)
        {
            Console.WriteLine(Line("baseline (trivial GET)", "–", b, null));
        }

        foreach (var x in r.Rows)
        {
            Console.WriteLine(Line($"{x.Backend}, {x.Window}", x.EventsPerResponse.ToString("F1", CultureInfo.InvariantCulture), x.Row, x.Ratio));
        }

        Console.WriteLine();
        foreach (var row in r.Rows.Select(x => x.Row).Prepend(r.Baseline).OfType<RunRow>())
        {
            if (row.Load.Cpu is { CoreBusyPercent.Length: >= 2, Seconds: > 0 } c)
            {
                double other0 = c.CoreBusyPercent[0] - (100 * c.ServerCpuSeconds / c.Seconds);
                double gen = 100 * c.LoadGenCpuSeconds / c.Seconds;
                Console.WriteLine($"{row.Name}: core 0 {c.CoreBusyPercent[0]:F0}% busy (server {100 * c.ServerCpuSeconds / c.Seconds:F0}%, other {Math.Max(0, other0):F0}%{(other0 > 10 ? ": PostgreSQL on the postgres rows, else other load  <-- check" : "")}), loadgen {gen:F0}% of core 1{(gen > 85 ? "  <-- WARNING: may be generator-bound" : "")}");
            }

            long[] ps = row.Load.PerSecondRequests;
            if (ps.Length >= 6)
            {
                int third = ps.Length / 3;
                double first = ps.Take(third).Average();
                double last = ps.Skip(ps.Length - third).Average();
                double drift = first > 0 ? (last - first) / first : 0;
                if (Math.Abs(drift) > 0.15)
                {
                    Console.WriteLine($"{row.Name}: throughput drift {drift:+0%;-0%} over the window  <-- WARNING");
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine($"target (issue 14): real >= {TargetRatio:F2} x baseline GET req/s, real p99 <= {TargetP99Ms:F0} ms");
        foreach (var x in r.Rows)
        {
            string ratio = x.Ratio is { } v ? $"[{(v >= TargetRatio ? "PASS" : "FAIL")}] ratio {v:F3}" : "[n/a ] ratio";
            Console.WriteLine($"  {x.Backend}, {x.Window}: {ratio}; [{(x.Row.Load.Latency.P99Ms <= TargetP99Ms ? "PASS" : "FAIL")}] p99 {x.Row.Load.Latency.P99Ms:F2} ms");
        }

        if (r.HadErrors)
        {
            Console.WriteLine();
            Console.WriteLine(new string('!', 78));
            Console.WriteLine("!!! INVALID BENCHMARK: some requests failed (non-2xx or transport errors).");
            foreach (var row in r.Rows.Select(x => x.Row).Prepend(r.Baseline).OfType<RunRow>().Where(x => x.Load.Errors + x.Load.WarmupErrors > 0))
            {
                Console.WriteLine($"!!! {row.Name}: {row.Load.Errors} errors in window, {row.Load.WarmupErrors} in warm-up: " + string.Join(", ", row.Load.ErrorsByKind.Select(kv => $"{kv.Key}={kv.Value}")));
                foreach (string s in row.Load.ErrorSamples)
                {
                    Console.WriteLine($"!!!   {s}");
                }
            }

            Console.WriteLine(new string('!', 78));
        }

        static string Line(string label, string perResponse, RunRow row, double? ratio)
        {
            var l = row.Load;
            string cpu = l.Cpu is { } c && l.Requests > 0 && !double.IsNaN(c.ServerCpuSeconds) ? $"{1e6 * c.ServerCpuSeconds / (l.RequestsPerSecond * c.Seconds):F0} µs" : "n/a";
            return $"| {label} | {perResponse} | {l.RequestsPerSecond:F0} | {(ratio is { } v ? v.ToString("F3", CultureInfo.InvariantCulture) : "–")} | {l.Latency.P50Ms:F2} | {l.Latency.P99Ms:F2} | {l.Latency.P999Ms:F2} | {l.Latency.MaxMs:F2} | {l.Errors + l.WarmupErrors} | {cpu} | {row.ServerPeakRssKb / 1024.0:F0} MiB |";
        }
    }
}

internal sealed record FetchRow
{
    public required string Backend { get; init; }
    public required string Window { get; init; }
    public required double EventsPerResponse { get; init; }
    public required long ResponseBytes { get; init; }
    public required RunRow Row { get; init; }
    public double? Ratio { get; init; }
}

internal sealed record FetchReport : RunReport
{
    public required int Events { get; init; }
    public required int Prospects { get; init; }
    public RunRow? Baseline { get; set; }
    public List<FetchRow> Rows { get; init; } = [];
    public Dictionary<string, string> Plans { get; init; } = [];
    public MemoryRun? Memory { get; set; }
    public bool HadErrors { get; set; }
}

[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(FetchReport))]
internal sealed partial class FetchJsonContext : JsonSerializerContext;
