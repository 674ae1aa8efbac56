using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ProspectEvents.Bench;

/// <summary>
/// `deliveries`: webhook delivery by the real server (`ProspectEvents.Server serve`, dispatcher on) to a local receiver
/// (<see cref="WebhookReceiver"/>, its own process) that answers 200 at once. Per backend, one server process:
/// 1. setup: two partners, enrollments, two snapshots ingested (one company change per prospect), so the outbox holds
///    the deliveries while their partners have no webhook yet (deliveries wait for one);
/// 2. warm-up: the second partner registers its webhook and its deliveries go out (a cold-start row);
/// 3. throughput: the measured partner registers its webhook and its N waiting deliveries go out; deliveries/s from
///    the first to the last request counted at the receiver, and the outbox checked (all delivered);
/// 4. latency: observations fed at a steady event rate while the dispatcher runs; detection (events.detected_at) to
///    arrival at the receiver, p50/p99/max.
/// Then the baseline: plain concurrent HttpClient POSTs of the very same requests (recorded by the receiver) with
/// the same concurrency, from a process in the server's place, to the same receiver.
/// Server and baseline on core 0; receiver, feeder and PostgreSQL on core 1.
/// </summary>
internal static class DeliveryBenchmark
{
    private const double TargetPerSecond = 5_000;
    private const double TargetP99Ms = 1_000;
    private const int IdsPerEnrollment = 20;
    private const string Database = "bench";

    internal sealed class SetupException(string message) : Exception(message);

    internal sealed record Partner(string Id, string Key);

    private sealed record Run(DeliveryOptions O, string Dotnet, string BenchDll, string ServerDll, string RunDir, Pinning Pin, Uri Receiver, ChildProcess ReceiverProcess, List<string> Warnings);

    public static async Task<int> RunAsync(DeliveryOptions o)
    {
        var bench = await BenchRun.StartAsync("deliveries", o.ResultsDir, o.NoPin);
        var pin = bench.Pin;
        string? pgBin = o.Postgres ? await BenchPostgres.FindBinariesAsync(askedByName: true, bench.Warnings) : "";
        if (pgBin is null)
        {
            return 2;
        }

        bool runPostgres = pgBin.Length > 0;

        string pinning = pin.Taskset is null
            ? pin.Description
            : $"server under test and the baseline client -> core 0 (`taskset -c 0`); webhook receiver, latency feeder{(runPostgres ? " and PostgreSQL" : "")} -> core 1 (`taskset -c 1`)";
        int latencyEvents = o.SkipLatency ? 0 : o.LatencyRate * (o.LatencyWarmupSeconds + o.LatencySeconds);
        bench.PrintHeader(pinning,
            $"load    : throughput {o.Deliveries:N0} deliveries (after {o.WarmupDeliveries:N0} warm-up deliveries), Webhooks:Concurrency {o.Concurrency}; " +
            (o.SkipLatency ? "no latency phase" : $"latency {o.LatencyRate:N0} events/s for {o.LatencyWarmupSeconds}s (not counted) + {o.LatencySeconds}s, a batch every {o.IntervalMs} ms") +
            (o.SkipBaseline ? "; no baseline" : $"; baseline {o.BaselineRequests:N0} HttpClient POSTs of the same requests, {o.Concurrency} in flight"));
        if (pin.Taskset is null)
        {
            bench.Warnings.Add($"not pinned: {pin.Description}");
        }

        if (await bench.ServerAsync(o.ServerDll, o.NoBuild) is not (var serverDll, var source))
        {
            return 2;
        }

        string dotnet = bench.Dotnet, benchDll = bench.BenchDll, runDir = bench.RunDir;
        var warnings = bench.Warnings;
        Console.WriteLine();

        // The receiver lives for the whole run, on core 1: every phase (and the baseline) sends to it.
        var receiverUrl = new Uri($"http://127.0.0.1:{Loopback.FreePort()}");
        using var receiver = await StartReceiverAsync(pin, dotnet, benchDll, runDir, receiverUrl);
        if (receiver is null)
        {
            return Finish(2);
        }
        Console.WriteLine();
        var run = new Run(o, dotnet, benchDll, serverDll, runDir, pin, receiverUrl, receiver, warnings);

        var rows = new List<DeliveryBackendRow>();
        bool setupFailed = false;
        if (o.Sqlite)
        {
            string dbDir = Path.Combine(runDir, "sqlite");
            Directory.CreateDirectory(dbDir);
            string db = Path.Combine(dbDir, "bench.db");
            string? sqlite3 = Pinning.Which("sqlite3");
            Console.WriteLine($"== SQLite: {db} ==");
            var row = await RunBackendAsync(run, "sqlite", $"Data Source={db}", "lower(hex(prospect_id))",
                sqlite3 is null ? null : sql => ProcessRunner.RunAsync(sqlite3, ["-separator", "\t", db, sql], TimeSpan.FromMinutes(2)),
                databaseCpu: null, settings: "WAL; the server's writer sets synchronous=NORMAL and cache_size 64 MiB (src/ProspectEvents.Storage/SqliteStore.cs)");
            if (sqlite3 is null)
            {
                warnings.Add("sqlite3 CLI not found: the outbox was checked through GET /v1/admin/stats only, and latency could not be measured from detected_at");
            }

            rows.Add(row);
            setupFailed |= row.Error is not null && row.Throughput is null;
            Console.WriteLine();
        }

        if (runPostgres)
        {
            var (pg, settings) = await BenchPostgres.StartAnnouncedAsync(pgBin!, pin.Taskset, Database, o.PostgresSettings);
            setupFailed |= pg is null;
            if (pg is not null && o.PostgresSettings.Count > 0)
            {
                warnings.Add($"PostgreSQL ran with extra settings: {string.Join(", ", o.PostgresSettings)}");
            }

            if (pg is not null)
            {
                await using (pg)
                {
                    var row = await RunBackendAsync(run, "postgres", pg.ConnectionString(Database), "encode(prospect_id, 'hex')",
                        sql => pg.PsqlAsync(Database, sql), pg.CpuSeconds, settings.Ok ? settings.Stdout.Trim() : null);
                    rows.Add(row);
                    setupFailed |= row.Error is not null && row.Throughput is null;
                }

                Console.WriteLine("stopped : PostgreSQL (pg_ctl stop -m fast), data directory removed");
            }

            Console.WriteLine();
        }

        DeliveryBaseline? baseline = null;
        string? samples = rows.Select(r => Path.Combine(runDir, $"samples-{r.Backend}.json")).FirstOrDefault(File.Exists);
        if (!o.SkipBaseline && samples is not null)
        {
            Console.WriteLine("== baseline: plain HttpClient POSTs of the same requests, same concurrency, same receiver ==");
            baseline = await RunBaselineAsync(run, samples);
            if (baseline is null)
            {
                setupFailed = true;
            }

            Console.WriteLine();
        }

        var targets = Targets(rows, baseline);
        bool valid = !setupFailed && rows.Count > 0 && rows.All(r => r.Error is null)
            && (baseline is null || (baseline.Phase.Complete && baseline.Client.Errors + baseline.Client.WarmupErrors == 0));
        var report = bench.Stamped(new DeliveryReport
        {
            Options = o,
            Rows = rows,
            Baseline = baseline,
            Targets = targets,
            Warnings = warnings,
            Valid = valid,
            TotalSeconds = bench.TotalSeconds,
        }, source, pinning);
        PrintReport(bench, report, latencyEvents);
        await bench.WriteResultAsync("deliveries", report, DeliveryJsonContext.Default.DeliveryReport);
        return Finish(setupFailed ? 2 : valid ? 0 : 1);

        int Finish(int code) => bench.Finish(code, o.KeepDb);
    }

    /// <summary>The `webhook-receiver` child on the load generator's core, ready at <paramref name="url"/>; null (stopped) when it never answers.</summary>
    internal static async Task<ChildProcess?> StartReceiverAsync(Pinning pin, string dotnet, string benchDll, string runDir, Uri url)
    {
        var receiver = ChildProcess.Start(
            pin.LoadGenLauncher(dotnet),
            [.. pin.LoadGenPrefix, benchDll, "webhook-receiver", "--urls", url.ToString().TrimEnd('/')],
            Path.Combine(runDir, "receiver.log"),
            runDir,
            ServerChild.Environment(extra: null));
        Console.WriteLine($"receiver: pid {receiver.Pid}: {receiver.Display}");
        if (!await ServerChild.WaitReadyAsync(receiver, new Uri(url, "/readyz")))
        {
            receiver.Dispose();
            return null;
        }

        Console.WriteLine($"affinity: receiver pid {receiver.Pid} Cpus_allowed_list = {ProcStats.AffinityList(receiver.Pid) ?? "n/a"}");
        return receiver;
    }

    private static async Task<DeliveryBackendRow> RunBackendAsync(
        Run r, string backend, string connectionString, string prospectHexSql, Func<string, Task<ProcessResult>>? query,
        Func<(double User, double Sys)>? databaseCpu, string? settings)
    {
        var o = r.O;
        var row = new DeliveryBackendRow { Backend = backend, Settings = settings };
        string workDir = Path.Combine(r.RunDir, backend + "-work");
        Directory.CreateDirectory(workDir);
        var env = ServerChild.Environment(new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Storage__Provider"] = backend,
            ["Storage__ConnectionString"] = connectionString,
            ["RateLimiting__PermitsPerWindow"] = "1000000000",
            ["Webhooks__AllowPrivateNetworks"] = "true",
            ["Webhooks__Concurrency"] = o.Concurrency.ToString(CultureInfo.InvariantCulture),
        });

        int nT = o.Deliveries, nW = o.WarmupDeliveries, nL = o.SkipLatency ? 0 : o.LatencyRate * (o.LatencyWarmupSeconds + o.LatencySeconds);
        ChildProcess? server = null;
        try
        {
            var setup = Stopwatch.StartNew();
            // The measured partner's key is an admin key: it also feeds observations and reads the stats.
            var a = await CreatePartnerAsync(r, env, workDir, "bench-deliveries", "admin");
            var w = await CreatePartnerAsync(r, env, workDir, "bench-warmup", "partner");
            var started = await ServerChild.StartAsync(r.Pin, r.Dotnet, [r.ServerDll, "serve"], Path.Combine(r.RunDir, $"server-{backend}.log"), workDir, env)
                ?? throw new SetupException("the server did not start");
            server = started.Server;
            using var api = new Api(started.BaseUrl);
            var cpuSources = CpuSources(server.Pid, r.ReceiverProcess.Pid, databaseCpu);

            // 1. Setup: enrollments, then two snapshots, while no webhook is registered: the deliveries wait in the outbox.
            var sw = Stopwatch.StartNew();
            long enrollments = await EnrollAsync(api, a.Key, "t", nT) + await EnrollAsync(api, a.Key, "l", nL) + await EnrollAsync(api, w.Key, "w", nW);
            Console.WriteLine($"setup   : {enrollments:N0} enrollments of {IdsPerEnrollment} prospects in {sw.Elapsed.TotalSeconds:F1}s ({nT:N0} throughput + {nL:N0} latency prospects for the measured partner, {nW:N0} for the warm-up partner)");
            sw.Restart();
            long unindexed = await WaitAsync(api, a.Key, s => s.GetProperty("unindexed_enrollments").GetInt64() == 0, TimeSpan.FromMinutes(3));
            Console.WriteLine(unindexed == 0
                ? $"setup   : fan-out indexer caught up in {sw.Elapsed.TotalSeconds:F1}s"
                : $"setup   : WARNING fan-out indexer still has {unindexed:N0} enrollments to index after {sw.Elapsed.TotalSeconds:F0}s (matching reads them directly; slower ingest only)");

            sw.Restart();
            var first = await IngestAsync(api, a.Key, Snapshot(1, ("t", nT), ("l", nL), ("w", nW)));
            var second = await IngestAsync(api, a.Key, Snapshot(2, ("t", nT), ("w", nW)));
            Console.WriteLine($"setup   : snapshot 1: {first.Observations:N0} observations, {first.Events:N0} events; snapshot 2: {second.Observations:N0} observations, {second.Events:N0} events ({sw.Elapsed.TotalSeconds:F1}s)");
            if (first.Observations != nT + nL + nW || first.Events != 0 || second.Observations != nT + nW || second.Events != nT + nW)
            {
                throw new SetupException($"ingest did not give one event per changed prospect: expected {nT + nL + nW:N0} and {nT + nW:N0} observations, 0 and {nT + nW:N0} events");
            }

            using (var stats = await api.StatsAsync(a.Key))
            {
                long pending = stats.RootElement.GetProperty("pending_deliveries").GetInt64();
                Console.WriteLine($"setup   : outbox {pending:N0} pending deliveries, no webhook registered; setup took {setup.Elapsed.TotalSeconds:F0}s");
                if (pending != nT + nW)
                {
                    throw new SetupException($"expected {nT + nW:N0} pending deliveries, the stats say {pending:N0}");
                }
            }

            row = row with { Enrollments = enrollments, SetupEvents = second.Events, SetupSeconds = Math.Round(setup.Elapsed.TotalSeconds, 1) };

            // 2. Warm-up: the second partner's deliveries go out first, so the measured ones meet tier-1 code.
            if (nW > 0)
            {
                var warm = await MeasureSinkAsync(r.Receiver, server, $"warm-{backend}", nW, cpuSources,
                    () => api.RegisterWebhookAsync(w, new Uri(r.Receiver, $"/hook/warm-{backend}")));
                warm = await RecordedAsync(r.Receiver, warm, await WaitDrainedAsync(api, a.Key, query, w.Id, warm));
                PrintPhase("warm-up", warm);
                row = row with { Warmup = warm };
                if (!warm.Complete)
                {
                    throw new SetupException($"warm-up: only {warm.Received:N0} of {nW:N0} deliveries arrived");
                }

                await Task.Delay(TimeSpan.FromSeconds(1));
            }

            // 3. Throughput: the measured partner's webhook is registered; its waiting deliveries go out.
            var tput = await MeasureSinkAsync(r.Receiver, server, $"tput-{backend}", nT, cpuSources,
                () => api.RegisterWebhookAsync(a, new Uri(r.Receiver, $"/hook/tput-{backend}")));
            tput = await RecordedAsync(r.Receiver, tput, await WaitDrainedAsync(api, a.Key, query, a.Id, tput));
            PrintPhase("measured", tput);
            var outbox = query is null ? [] : await OutboxAsync(query, a.Id);
            Console.WriteLine($"outbox  : measured partner: {Describe(outbox)} (expected delivered {nT:N0})");
            row = row with { Throughput = tput, OutboxAfterThroughput = outbox };
            await SaveSamplesAsync(r, $"tput-{backend}", Path.Combine(r.RunDir, $"samples-{backend}.json"));
            string? problem = !tput.Complete ? $"throughput: only {tput.Received:N0} of {nT:N0} deliveries arrived"
                : query is not null && outbox.GetValueOrDefault("delivered") != nT ? $"throughput: the outbox shows {Describe(outbox)}, expected {nT:N0} delivered"
                : tput.DuplicatesWhenRecorded > 0 ? $"throughput: {tput.DuplicatesWhenRecorded:N0} deliveries arrived twice (by the time every attempt was recorded)"
                : null;

            // 4. Latency: a steady feed while the dispatcher runs.
            if (nL > 0 && query is not null)
            {
                await api.UpdateWebhookAsync(a, new Uri(r.Receiver, $"/hook/lat-{backend}"));
                var latency = await MeasureLatencyAsync(r, server, api, a, backend, nL, query, prospectHexSql, cpuSources);
                row = row with { Latency = latency };
                await WaitDrainedAsync(api, a.Key, query, a.Id, null);
                var end = await OutboxAsync(query, a.Id);
                Console.WriteLine($"outbox  : measured partner after the latency phase: {Describe(end)} (expected delivered {nT + nL:N0})");
                row = row with { OutboxAtEnd = end };
                problem ??= !latency.Complete ? $"latency: only {latency.Received:N0} of {nL:N0} events arrived"
                    : latency.FeedErrors > 0 ? $"latency: {latency.FeedErrors} feed batches failed"
                    : end.GetValueOrDefault("delivered") != nT + nL ? $"latency: the outbox shows {Describe(end)}, expected {nT + nL:N0} delivered"
                    : latency.Duplicates > 0 ? $"latency: {latency.Duplicates:N0} deliveries arrived twice"
                    : null;
            }

            if (server.HasExited)
            {
                problem ??= $"the server exited during the run (code {server.Process.ExitCode})";
            }

            row = row with { ServerPeakRssKb = ProcStats.PeakRssKb(server.Pid), Error = problem };
            if (problem is not null)
            {
                Console.WriteLine($"ERROR   : {problem}");
            }

            return row;
        }
        catch (Exception e) when (e is SetupException or HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            Console.Error.WriteLine($"error: {backend}: {e.Message}");
            if (server is not null)
            {
                Console.Error.WriteLine(server.Tail(20));
            }

            return row with { Error = e.Message };
        }
        finally
        {
            server?.Dispose();
        }
    }

    private static async Task<Partner> CreatePartnerAsync(Run r, Dictionary<string, string?> env, string workDir, string name, string scope) =>
        await ServerChild.CreatePartnerAsync(r.Dotnet, r.ServerDll, env, workDir, Path.Combine(r.RunDir, $"partners-create-{name}.log"), name, scope) is { PartnerId: { } id, ApiKey: { } key }
            ? new Partner(id, key)
            : throw new SetupException($"`partners create {name}` printed no partner (see the error above)");

    // Deterministic ids: a set name ("t" throughput, "l" latency, "w" warm-up) and an index.
    private static string ProspectId(string set, int i) => Hex($"delivery-bench/prospect/{set}/{i}", 20);

    private static string Hex(string seed, int bytes) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(seed)).AsSpan(0, bytes));

    private static readonly string[] Titles = ["Account Executive", "Senior Software Engineer", "VP Sales", "Head of Marketing", "Product Manager", "Data Analyst", "Chief Revenue Officer", "Customer Success Manager"];

    private static readonly string[] CompanyWords = ["Northwind", "Contoso", "Fabrikam", "Tailspin", "Wingtip", "Litware", "Adventure", "Proseware", "Lucerne", "Coho"];

    /// <summary>
    /// One observation per prospect of the given sets, on snapshot <paramref name="snapshot"/>'s date. Every snapshot puts
    /// the prospect at another employer (new company id, name and domain, same title): each snapshot after the first is
    /// exactly one prospect_changed_company event per prospect.
    /// </summary>
    internal static byte[] Snapshot(int snapshot, params (string Set, int Count)[] sets)
    {
        var sb = new StringBuilder();
        foreach (var (set, count) in sets)
        {
            for (int i = 0; i < count; i++)
            {
                sb.Append(Line(set, i, snapshot)).Append('\n');
            }
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static string Line(string set, int i, int snapshot)
    {
        string company = Hex($"delivery-bench/company/{set}/{i}/{snapshot}", 16);
        string word = CompanyWords[(i + snapshot) % CompanyWords.Length];
        return $"{{\"prospect_id\":\"{ProspectId(set, i)}\",\"observed_at\":\"2026-{snapshot:00}-01T08:00:00Z\",\"full_name\":\"Bench Person {set}{i}\"," +
            $"\"job_title\":\"{Titles[i % Titles.Length]}\",\"job_department\":\"sales\",\"job_seniority_level\":\"manager\"," +
            $"\"company_id\":\"{company}\",\"company_name\":\"{word} {company[..6]} Inc\",\"company_domain\":\"{word.ToLowerInvariant()}-{company[..6]}.example\"," +
            $"\"linkedin_url\":\"https://www.linkedin.com/in/bench-{set}-{i}\"}}";
    }

    /// <summary>Enrolls the set's prospects, 20 a request, 16 requests in flight; returns the number of enrollments.</summary>
    internal static async Task<long> EnrollAsync(Api api, string key, string set, int count)
    {
        int enrollments = (count + IdsPerEnrollment - 1) / IdsPerEnrollment;
        int next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            int k;
            while ((k = Interlocked.Increment(ref next)) < enrollments)
            {
                var ids = Enumerable.Range(k * IdsPerEnrollment, Math.Min(IdsPerEnrollment, count - (k * IdsPerEnrollment))).Select(i => $"\"{ProspectId(set, i)}\"");
                string body = $"{{\"enrollment_key\":\"bench_{set}_{k}\",\"event_types\":[\"prospect_changed_company\",\"prospect_changed_role\"],\"prospect_ids\":[{string.Join(',', ids)}]}}";
                (await api.SendAsync(HttpMethod.Post, "/v1/prospects/events/enrollments", key, Encoding.UTF8.GetBytes(body))).Dispose();
            }
        })));
        return enrollments;
    }

    internal static async Task<(long Observations, long Events)> IngestAsync(Api api, string key, byte[] ndjson)
    {
        using var json = await api.SendAsync(HttpMethod.Post, "/v1/admin/observations", key, ndjson, "application/x-ndjson");
        var root = json.RootElement;
        if (root.GetProperty("rejected").GetInt64() > 0)
        {
            throw new SetupException($"ingest rejected lines: {root.GetProperty("rejected_lines")}");
        }

        return (root.GetProperty("observations").GetInt64(), root.GetProperty("events").GetInt64());
    }

    /// <summary>Polls the stats every 500 ms until <paramref name="done"/>; returns the unindexed enrollments at the end.</summary>
    internal static async Task<long> WaitAsync(Api api, string key, Func<JsonElement, bool> done, TimeSpan bound)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            using var stats = await api.StatsAsync(key);
            if (done(stats.RootElement) || sw.Elapsed > bound)
            {
                return stats.RootElement.GetProperty("unindexed_enrollments").GetInt64();
            }

            await Task.Delay(500);
        }
    }

    /// <summary>
    /// After the receiver has everything: waits until the partner has no pending delivery, i.e. every attempt is
    /// recorded, and returns the seconds from the phase's start. Asks the database (an indexed count, every 250 ms)
    /// rather than GET /v1/admin/stats, whose table counts cost PostgreSQL enough to slow the recorder it waits for.
    /// </summary>
    internal static async Task<double?> WaitDrainedAsync(Api api, string key, Func<string, Task<ProcessResult>>? query, string partnerId, SinkPhase? phase)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(120))
        {
            bool pending;
            if (query is not null)
            {
                var count = await query($"SELECT COUNT(*) FROM deliveries WHERE partner_id = '{partnerId}' AND status = 'pending'");
                pending = !count.Ok || count.Stdout.Trim() != "0";
            }
            else
            {
                using var stats = await api.StatsAsync(key);
                pending = stats.RootElement.GetProperty("deliveries").EnumerateArray()
                    .Any(d => d.GetProperty("partner_id").GetString() == partnerId && d.GetProperty("pending").GetInt64() > 0);
            }

            if (!pending)
            {
                return phase is null ? null : Math.Round((DateTime.UtcNow.Ticks - phase.StartedTicks) / (double)TimeSpan.TicksPerSecond, 3);
            }

            await Task.Delay(query is null ? 1000 : 250);
        }

        return null;
    }

    /// <summary>The phase with when its attempts were all recorded, and what the receiver had by then (resends show up late).</summary>
    internal static async Task<SinkPhase> RecordedAsync(Uri receiverUrl, SinkPhase phase, double? recordedSeconds)
    {
        using var receiver = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = receiverUrl, Timeout = TimeSpan.FromSeconds(30) };
        var report = await ReportAsync(receiver, phase.Sink, arrivals: false);
        return phase with { RecordedSeconds = recordedSeconds, ReceivedWhenRecorded = report.Count, DuplicatesWhenRecorded = report.Duplicates };
    }

    internal static async Task<Dictionary<string, long>> OutboxAsync(Func<string, Task<ProcessResult>> query, string partnerId)
    {
        var result = await query($"SELECT status, COUNT(*) FROM deliveries WHERE partner_id = '{partnerId}' GROUP BY status ORDER BY status");
        if (!result.Ok)
        {
            throw new SetupException(result.Describe("outbox query"));
        }

        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split('\t'))
            .ToDictionary(f => f[0], f => long.Parse(f[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
    }

    internal static string Describe(Dictionary<string, long> outbox) =>
        outbox.Count == 0 ? "not checked" : string.Join(", ", outbox.Select(kv => $"{kv.Key} {kv.Value:N0}"));

    private static Dictionary<string, Func<double>> CpuSources(int serverPid, int receiverPid, Func<(double User, double Sys)>? databaseCpu)
    {
        var sources = new Dictionary<string, Func<double>>(StringComparer.Ordinal)
        {
            ["server"] = () => ProcStats.ProcessCpuSeconds(serverPid),
            ["receiver"] = () => ProcStats.ProcessCpuSeconds(receiverPid),
        };
        if (databaseCpu is not null)
        {
            sources["postgres"] = () =>
            {
                var (user, sys) = databaseCpu();
                return user + sys;
            };
        }

        return sources;
    }

    /// <summary>
    /// Runs <paramref name="start"/> and watches the receiver's sink (every 50 ms) until <paramref name="expected"/>
    /// requests arrived. CPU and core counters are read when the first request is seen and when the last is.
    /// </summary>
    internal static async Task<SinkPhase> MeasureSinkAsync(
        Uri receiverUrl, ChildProcess? sender, string sink, long expected, Dictionary<string, Func<double>> cpu, Func<Task> start)
    {
        using var receiver = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = receiverUrl, Timeout = TimeSpan.FromSeconds(30) };
        var bound = TimeSpan.FromSeconds(Math.Max(120, expected / 200.0));
        var sw = Stopwatch.StartNew();
        long startedTicks = DateTime.UtcNow.Ticks;
        await start();
        Dictionary<string, double>? cpu0 = null;
        (long Busy, long Steal, long Total)[]? core0 = null;
        double t0 = 0;
        ReceiverReport report;
        while (true)
        {
            report = await ReportAsync(receiver, sink, arrivals: false);
            if (report.Count > 0 && cpu0 is null)
            {
                cpu0 = cpu.ToDictionary(kv => kv.Key, kv => kv.Value(), StringComparer.Ordinal);
                core0 = ProcStats.CoreTicks();
                t0 = sw.Elapsed.TotalSeconds;
            }

            if (report.Count >= expected || sw.Elapsed > bound || sender is { HasExited: true })
            {
                break;
            }

            await Task.Delay(50);
        }

        double t1 = sw.Elapsed.TotalSeconds;
        var cpu1 = cpu.ToDictionary(kv => kv.Key, kv => kv.Value(), StringComparer.Ordinal);
        var core1 = ProcStats.CoreTicks();
        report = await ReportAsync(receiver, sink, arrivals: true);
        long[] ticks = [.. report.Ticks!];
        Array.Sort(ticks);
        double span = ticks.Length > 1 ? (ticks[^1] - ticks[0]) / (double)TimeSpan.TicksPerSecond : 0;
        long[] perSecond = ticks.Length == 0 ? [] : new long[(int)span + 1];
        foreach (long t in ticks)
        {
            perSecond[(int)((t - ticks[0]) / TimeSpan.TicksPerSecond)]++;
        }

        return new SinkPhase
        {
            Sink = sink,
            Expected = expected,
            Received = report.Count,
            Duplicates = report.Duplicates,
            AverageBodyBytes = report.Count > 0 ? Math.Round(report.BodyBytes / (double)report.Count, 1) : 0,
            FirstToLastSeconds = Math.Round(span, 3),
            PerSecond = span > 0 ? Math.Round((ticks.Length - 1) / span) : 0,
            StartedTicks = startedTicks,
            StartToLastSeconds = ticks.Length > 0 ? Math.Round((ticks[^1] - startedTicks) / (double)TimeSpan.TicksPerSecond, 3) : null,
            PerSecondArrivals = perSecond,
            WindowSeconds = Math.Round(t1 - t0, 3),
            CpuSeconds = cpu0 is null ? [] : cpu1.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value - cpu0[kv.Key], 2), StringComparer.Ordinal),
            CoreBusyPercent = core0 is null ? [] : ProcStats.CorePercent(core0, core1).Busy,
            Complete = report.Count >= expected,
        };
    }

    private static async Task<ReceiverReport> ReportAsync(HttpClient receiver, string sink, bool arrivals)
    {
        string text = await receiver.GetStringAsync($"/report/{sink}{(arrivals ? "?arrivals=true" : "")}");
        return JsonSerializer.Deserialize(text, ReceiverJsonContext.Default.ReceiverReport)!;
    }

    private static async Task SaveSamplesAsync(Run r, string sink, string path)
    {
        using var receiver = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = r.Receiver, Timeout = TimeSpan.FromSeconds(30) };
        await File.WriteAllTextAsync(path, await receiver.GetStringAsync($"/samples/{sink}"));
    }

    private static async Task<LatencyPhase> MeasureLatencyAsync(
        Run r, ChildProcess server, Api api, Partner a, string backend, int count, Func<string, Task<ProcessResult>> query, string prospectHexSql,
        Dictionary<string, Func<double>> cpu)
    {
        var o = r.O;
        int batch = o.LatencyRate * o.IntervalMs / 1000;
        int warmupBatches = o.LatencyWarmupSeconds * 1000 / o.IntervalMs;
        string file = Path.Combine(r.RunDir, $"latency-{backend}.ndjson");
        await File.WriteAllBytesAsync(file, Snapshot(2, ("l", count)));
        var batchOf = new Dictionary<string, int>(count, StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            batchOf[ProspectId("l", i)] = i / batch;
        }

        string sink = $"lat-{backend}";
        Console.WriteLine($"-- latency: {count:N0} observations (one company change each) in batches of {batch} every {o.IntervalMs} ms = {o.LatencyRate:N0} events/s, " +
            $"{o.LatencyWarmupSeconds}s warm-up + {o.LatencySeconds}s measured, POST /v1/admin/observations");
        string? resultJson = null;
        var cpu0 = cpu.ToDictionary(kv => kv.Key, kv => kv.Value(), StringComparer.Ordinal);
        var core0 = ProcStats.CoreTicks();
        var sw = Stopwatch.StartNew();
        using (var feeder = ChildProcess.Start(
            r.Pin.LoadGenLauncher(r.Dotnet),
            [.. r.Pin.LoadGenPrefix, r.BenchDll, "feed-observations", "--url", new Uri(api.BaseUrl, "/v1/admin/observations").ToString(), "--api-key", a.Key,
             "--file", file, "--batch", batch.ToString(CultureInfo.InvariantCulture), "--interval-ms", o.IntervalMs.ToString(CultureInfo.InvariantCulture)],
            Path.Combine(r.RunDir, $"feeder-{backend}.log"),
            environment: new Dictionary<string, string?>(StringComparer.Ordinal) { ["DOTNET_gcServer"] = "0", ["DOTNET_TC_DelaySingleProcMultiplier"] = "1" },
            onStdoutLine: l =>
            {
                if (l.StartsWith("RESULT ", StringComparison.Ordinal))
                {
                    resultJson = l["RESULT ".Length..];
                }
            },
            onStderrLine: l => Console.WriteLine($"          {l}")))
        {
            await feeder.WaitAsync(TimeSpan.FromSeconds(o.LatencyWarmupSeconds + o.LatencySeconds + 180));
        }

        double feedSeconds = sw.Elapsed.TotalSeconds;
        var cpu1 = cpu.ToDictionary(kv => kv.Key, kv => kv.Value(), StringComparer.Ordinal);
        var core1 = ProcStats.CoreTicks();
        var feed = resultJson is null ? null : JsonSerializer.Deserialize(resultJson, DeliveryJsonContext.Default.FeedResult);
        if (feed is null)
        {
            throw new SetupException("the latency feeder gave no result");
        }

        // Everything detected should arrive within a few seconds of the last batch.
        using var receiver = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = r.Receiver, Timeout = TimeSpan.FromSeconds(30) };
        var wait = Stopwatch.StartNew();
        ReceiverReport report;
        while ((report = await ReportAsync(receiver, sink, arrivals: false)).Count < count && wait.Elapsed < TimeSpan.FromSeconds(60) && !server.HasExited)
        {
            await Task.Delay(100);
        }

        report = await ReportAsync(receiver, sink, arrivals: true);
        var events = await query($"SELECT event_id, detected_at, {prospectHexSql} FROM events WHERE event_name = 'prospect_changed_company'");
        if (!events.Ok)
        {
            throw new SetupException(events.Describe("events query"));
        }

        var detected = new Dictionary<string, (long DetectedMs, int Batch)>(StringComparer.Ordinal);
        foreach (string line in events.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = line.Trim().Split('\t');
            if (f.Length == 3 && batchOf.TryGetValue(f[2], out int b))
            {
                detected[f[0]] = (long.Parse(f[1], CultureInfo.InvariantCulture), b);
            }
        }

        var acks = feed.Batches.ToDictionary(b => b.Index, b => b.AckTicks);
        var fromDetection = new List<double>();
        var warmup = new List<double>();
        var fromAck = new List<double>();
        var perSecond = new SortedDictionary<int, List<double>>();
        for (int i = 0; i < report.Ticks!.Count; i++)
        {
            if (report.EventIds![i] is not { } id || !detected.TryGetValue(id, out var d))
            {
                continue;
            }

            double arrivedMs = (report.Ticks[i] - DateTime.UnixEpoch.Ticks) / (double)TimeSpan.TicksPerMillisecond;
            double latency = arrivedMs - d.DetectedMs;
            if (d.Batch < warmupBatches)
            {
                warmup.Add(latency);
                continue;
            }

            fromDetection.Add(latency);
            fromAck.Add((report.Ticks[i] - acks[d.Batch]) / (double)TimeSpan.TicksPerMillisecond);
            int second = (d.Batch - warmupBatches) * o.IntervalMs / 1000;
            if (!perSecond.TryGetValue(second, out var list))
            {
                perSecond[second] = list = [];
            }

            list.Add(latency);
        }

        var measuredBatches = feed.Batches.Where(b => b.Index >= warmupBatches).ToList();
        var phase = new LatencyPhase
        {
            Rate = o.LatencyRate,
            IntervalMs = o.IntervalMs,
            Batch = batch,
            WarmupSeconds = o.LatencyWarmupSeconds,
            Seconds = o.LatencySeconds,
            Observations = feed.Batches.Sum(b => (long)b.Lines),
            EventsDetected = feed.Batches.Sum(b => b.Events),
            Received = report.Count,
            Duplicates = report.Duplicates,
            Measured = fromDetection.Count,
            FromDetection = LatencySummary.Of(fromDetection),
            WarmupFromDetection = warmup.Count > 0 ? LatencySummary.Of(warmup) : null,
            FromAcknowledgement = LatencySummary.Of(fromAck),
            FeedPost = LatencySummary.Of([.. measuredBatches.Select(b => (b.AckTicks - b.SentTicks) / (double)TimeSpan.TicksPerMillisecond)]),
            P99PerSecondMs = [.. perSecond.Values.Select(l => Math.Round(LatencySummary.Of(l).P99Ms, 1))],
            MaxFeederSlipMs = feed.Batches.Count == 0 ? 0 : Math.Round(feed.Batches.Max(b => b.LateTicks) / (double)TimeSpan.TicksPerMillisecond, 1),
            FeedErrors = feed.Batches.Count(b => b.Error is not null),
            FeedErrorSamples = [.. feed.Batches.Where(b => b.Error is not null).Select(b => $"batch {b.Index}: {b.Error}").Take(5)],
            WindowSeconds = Math.Round(feedSeconds, 1),
            CpuSeconds = cpu1.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value - cpu0[kv.Key], 2), StringComparer.Ordinal),
            CoreBusyPercent = ProcStats.CorePercent(core0, core1).Busy,
            Complete = report.Count >= count && detected.Count == count,
        };
        var lat = phase.FromDetection;
        Console.WriteLine($"result  : {phase.EventsDetected:N0} events detected, {phase.Received:N0} delivered ({phase.Duplicates} twice); detection -> delivery over {phase.Measured:N0} measured events: " +
            $"p50 {lat.P50Ms:F0} ms, p90 {lat.P90Ms:F0} ms, p99 {lat.P99Ms:F0} ms, max {lat.MaxMs:F0} ms (warm-up p99 {phase.WarmupFromDetection?.P99Ms:F0} ms)");
        Console.WriteLine($"          feed POST p50 {phase.FeedPost!.P50Ms:F0} ms, p99 {phase.FeedPost.P99Ms:F0} ms; answer -> delivery p50 {phase.FromAcknowledgement!.P50Ms:F0} ms, p99 {phase.FromAcknowledgement.P99Ms:F0} ms; " +
            $"feeder slip max {phase.MaxFeederSlipMs:F1} ms; p99 per second: {string.Join(' ', phase.P99PerSecondMs.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))}");
        Console.WriteLine($"          CPU over the feed ({phase.WindowSeconds:F1}s): {string.Join(", ", phase.CpuSeconds.Select(kv => $"{kv.Key} {100 * kv.Value / phase.WindowSeconds:F0}%"))}; " +
            $"cores {string.Join(" / ", phase.CoreBusyPercent.Select(c => $"{c:F0}%"))}");
        return phase;
    }

    private static async Task<DeliveryBaseline?> RunBaselineAsync(Run r, string samplesFile)
    {
        var o = r.O;
        string? resultJson = null;
        string launcher = r.Pin.ServerLauncher(r.Dotnet, out var prefix);
        using var client = ChildProcess.Start(
            launcher,
            [.. prefix, r.BenchDll, "post-bodies", "--url", new Uri(r.Receiver, "/hook/base").ToString(), "--warmup-url", new Uri(r.Receiver, "/hook/base-warm").ToString(),
             "--bodies", samplesFile, "--count", o.BaselineRequests.ToString(CultureInfo.InvariantCulture), "--concurrency", o.Concurrency.ToString(CultureInfo.InvariantCulture),
             "--warmup", o.BaselineWarmupSeconds.ToString(CultureInfo.InvariantCulture)],
            Path.Combine(r.RunDir, "baseline.log"),
            environment: new Dictionary<string, string?>(StringComparer.Ordinal) { ["DOTNET_TC_DelaySingleProcMultiplier"] = "1" },
            onStdoutLine: l =>
            {
                if (l.StartsWith("RESULT ", StringComparison.Ordinal))
                {
                    resultJson = l["RESULT ".Length..];
                }
            },
            onStderrLine: l => Console.WriteLine($"          {l}"));
        var cpu = CpuSources(client.Pid, r.ReceiverProcess.Pid, null);
        cpu["client"] = cpu["server"];
        cpu.Remove("server");
        var phase = await MeasureSinkAsync(r.Receiver, client, "base", o.BaselineRequests, cpu, () => Task.CompletedTask);
        await client.WaitAsync(TimeSpan.FromSeconds(120));
        var result = resultJson is null ? null : JsonSerializer.Deserialize(resultJson, DeliveryJsonContext.Default.PostBodiesResult);
        if (result is null)
        {
            Console.Error.WriteLine($"error: baseline client gave no result:{Environment.NewLine}{client.Tail()}");
            return null;
        }

        phase = phase with { StartToLastSeconds = null };
        PrintPhase("baseline", phase);
        Console.WriteLine($"          client: {result.RequestsPerSecond:N0} requests/s over its own {result.Seconds:F2}s, errors {result.Errors} (+{result.WarmupErrors} in warm-up), " +
            $"{result.DistinctRequests} distinct requests of {result.AverageBodyBytes:F0} B on average, affinity {result.AffinityList ?? "n/a"}");
        return new DeliveryBaseline { Phase = phase, Client = result };
    }

    private static void PrintPhase(string name, SinkPhase p)
    {
        // The baseline sends its few hundred recorded requests over and over: repeated webhook-ids are expected there.
        string twice = name == "baseline" ? "" : $" ({p.Duplicates} twice)";
        Console.WriteLine($"result  : {name}: {p.Received:N0} of {p.Expected:N0} arrived{twice}, first -> last {p.FirstToLastSeconds:F2}s = {p.PerSecond:N0} deliveries/s" +
            (p.StartToLastSeconds is { } s ? $"; start -> last {s:F2}s" : "") + (p.RecordedSeconds is { } rec ? $", start -> all recorded {rec:F2}s" : "") +
            (p.ReceivedWhenRecorded is { } late && late != p.Received ? $"  <-- {late - p.Received:N0} more requests ({p.DuplicatesWhenRecorded:N0} resends) arrived before every attempt was recorded" : ""));
        Console.WriteLine($"          per second: {string.Join(' ', p.PerSecondArrivals)}; avg body {p.AverageBodyBytes:F0} B; CPU over {p.WindowSeconds:F2}s: " +
            $"{string.Join(", ", p.CpuSeconds.Select(kv => $"{kv.Key} {(p.WindowSeconds > 0 ? 100 * kv.Value / p.WindowSeconds : double.NaN):F0}%"))}; cores {string.Join(" / ", p.CoreBusyPercent.Select(c => $"{c:F0}%"))}");
    }

    private static List<TargetCheck> Targets(List<DeliveryBackendRow> rows, DeliveryBaseline? baseline)
    {
        var targets = new List<TargetCheck>();
        foreach (var row in rows)
        {
            if (row.Throughput is { } t)
            {
                targets.Add(new TargetCheck
                {
                    Name = $"{row.Backend} webhook delivery throughput",
                    Target = $">= {TargetPerSecond:N0} deliveries/s",
                    Measured = $"{t.PerSecond:N0} deliveries/s" + (baseline is { Phase.PerSecond: > 0 } b ? $" ({t.PerSecond / b.Phase.PerSecond:F3} x the HttpClient baseline's {b.Phase.PerSecond:N0}/s)" : ""),
                    Pass = t.Complete && row.Error is null ? t.PerSecond >= TargetPerSecond : false,
                });
            }

            if (row.Latency is { } l)
            {
                targets.Add(new TargetCheck
                {
                    Name = $"{row.Backend} detection -> delivery at {l.Rate:N0} events/s",
                    Target = $"p99 <= {TargetP99Ms:N0} ms",
                    Measured = $"p50 {l.FromDetection.P50Ms:F0} ms, p99 {l.FromDetection.P99Ms:F0} ms, max {l.FromDetection.MaxMs:F0} ms over {l.Measured:N0} events",
                    Pass = l.Complete ? l.FromDetection.P99Ms <= TargetP99Ms : false,
                });
            }
        }

        return targets;
    }

    private static void PrintReport(BenchRun bench, DeliveryReport r, int latencyEvents)
    {
        var o = r.Options;
        Console.WriteLine($"== Webhook delivery to a local receiver ({o.Concurrency} in flight) ==");
        Console.WriteLine();
        Console.WriteLine("| row | deliveries | first -> last s | deliveries/s | x baseline | avg body B | server (or client) CPU | receiver CPU | core 0 / core 1 busy |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        double? basePerSecond = r.Baseline?.Phase.PerSecond;
        void Row(string label, SinkPhase p, string sender)
        {
            string Cpu(string key) => p.CpuSeconds.TryGetValue(key, out double v) && p.WindowSeconds > 0 ? $"{100 * v / p.WindowSeconds:F0}%" : "n/a";
            Console.WriteLine($"| {label} | {p.Received:N0} | {p.FirstToLastSeconds:F2} | {p.PerSecond:N0} | {(basePerSecond is > 0 ? (p.PerSecond / basePerSecond.Value).ToString("F3", CultureInfo.InvariantCulture) : "–")} | " +
                $"{p.AverageBodyBytes:F0} | {Cpu(sender)} | {Cpu("receiver")} | {string.Join(" / ", p.CoreBusyPercent.Select(c => $"{c:F0}%"))} |");
        }

        foreach (var row in r.Rows)
        {
            if (row.Warmup is { } w)
            {
                Row($"{row.Backend}: cold start (warm-up partner, fresh server)", w, "server");
            }

            if (row.Throughput is { } t)
            {
                Row($"{row.Backend}: ProspectEvents.Server dispatcher", t, "server");
            }
        }

        if (r.Baseline is { } b)
        {
            Row("baseline: HttpClient, same requests", b.Phase, "client");
        }

        Console.WriteLine();
        Console.WriteLine("deliveries/s = (requests counted at the receiver - 1) / (last arrival - first arrival). CPU = process utime+stime over the");
        Console.WriteLine("window from the first to the last arrival seen (100% = one core).");
        foreach (var row in r.Rows.Where(x => x.Throughput is { Received: > 0 }))
        {
            var t = row.Throughput!;
            double cpu = t.CpuSeconds.GetValueOrDefault("server", double.NaN);
            Console.WriteLine($"{row.Backend}: server CPU per delivery {1e6 * cpu / t.Received:F0} µs; start -> all recorded {t.RecordedSeconds:F2}s; outbox after: {Describe(row.OutboxAfterThroughput)}; server peak RSS {row.ServerPeakRssKb / 1024.0:F0} MiB");
        }

        if (r.Baseline is { Phase.Received: > 0 } bl)
        {
            Console.WriteLine($"baseline: client CPU per request {1e6 * bl.Phase.CpuSeconds.GetValueOrDefault("client", double.NaN) / bl.Phase.Received:F0} µs");
        }

        // Pinning keeps our processes apart, not other tenants of the machine: what else used each core in each window.
        foreach (var (name, phase, sender) in r.Rows.Where(x => x.Throughput is not null).Select(x => (x.Backend, x.Throughput!, "server"))
            .Concat(r.Baseline is { } bo ? [("baseline", bo.Phase, "client")] : []))
        {
            if (phase.CoreBusyPercent.Length < 2 || phase.WindowSeconds <= 0)
            {
                continue;
            }

            double Own(string key) => 100 * phase.CpuSeconds.GetValueOrDefault(key) / phase.WindowSeconds;
            double other0 = phase.CoreBusyPercent[0] - Own(sender);
            double other1 = phase.CoreBusyPercent[1] - Own("receiver") - Own("postgres");
            string warn = other0 > 10 || other1 > 10 ? "  <-- WARNING: other processes competed for a core; numbers are disturbed, consider re-running" : "";
            Console.WriteLine($"{name}: other load during the window: core 0 {Math.Max(0, other0):F0}%, core 1 {Math.Max(0, other1):F0}%{warn}");
        }

        // Steady state: the full seconds of a row (the last one is partial), last third against first third.
        foreach (var (name, phase) in r.Rows.Where(x => x.Throughput is not null).Select(x => (x.Backend, x.Throughput!))
            .Concat(r.Baseline is { } bp ? [("baseline", bp.Phase)] : []))
        {
            long[] full = phase.PerSecondArrivals.Length > 1 ? phase.PerSecondArrivals[..^1] : [];
            if (full.Length < 3)
            {
                Console.WriteLine($"{name}: only {full.Length} full seconds of arrivals: too short to judge steady state");
                continue;
            }

            int third = Math.Max(1, full.Length / 3);
            double first = full.Take(third).Average(), last = full.Skip(full.Length - third).Average();
            double drift = first > 0 ? (last - first) / first : 0;
            string warn = drift > 0.15 ? "  <-- WARNING: still speeding up (not at steady state)" : drift < -0.15 ? "  <-- WARNING: slowing down" : "";
            Console.WriteLine($"{name}: throughput drift over the window (last third vs first third of full seconds) {drift:+0%;-0%;0%}{warn}");
        }

        if (r.Rows.Any(x => x.Latency is not null))
        {
            Console.WriteLine();
            Console.WriteLine($"| latency (detection -> arrival) | events/s | events | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | answer -> arrival p50 / p99 ms | server CPU |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var row in r.Rows.Where(x => x.Latency is not null))
            {
                var l = row.Latency!;
                var d = l.FromDetection;
                Console.WriteLine($"| {row.Backend} | {l.Rate:N0} | {l.Measured:N0} | {d.P50Ms:F0} | {d.P90Ms:F0} | {d.P99Ms:F0} | {d.P999Ms:F0} | {d.MaxMs:F0} | " +
                    $"{l.FromAcknowledgement?.P50Ms:F0} / {l.FromAcknowledgement?.P99Ms:F0} | {100 * l.CpuSeconds.GetValueOrDefault("server", double.NaN) / l.WindowSeconds:F0}% |");
            }
        }
        else if (latencyEvents > 0)
        {
            Console.WriteLine("latency: not measured");
        }

        bench.PrintVerdict("targets (docs/benchmarks.md, Targets):", r.Targets, r.Valid,
            "INVALID BENCHMARK: a delivery or event was lost, sent twice, failed, or a step failed (see ERROR lines above).",
            [.. r.Rows.Where(x => x.Error is not null).Select(row => $"{row.Backend}: {row.Error}"),
             .. r.Baseline is { } bb && bb.Client.Errors + bb.Client.WarmupErrors > 0
                ? [$"baseline: {bb.Client.Errors} errors (+{bb.Client.WarmupErrors} in warm-up): {string.Join("; ", bb.Client.ErrorSamples)}"]
                : Array.Empty<string>()]);
    }

    /// <summary>The partner API as the setup uses it: JSON in and out, any non-2xx is a setup failure.</summary>
    internal sealed class Api(Uri baseUrl) : IDisposable
    {
        private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 32 }) { BaseAddress = baseUrl, Timeout = TimeSpan.FromMinutes(10) };

        public Uri BaseUrl => baseUrl;

        public async Task<JsonDocument> SendAsync(HttpMethod method, string path, string key, byte[]? body, string contentType = "application/json")
        {
            using var request = new HttpRequestMessage(method, path);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
            }

            request.Headers.TryAddWithoutValidation("api_key", key);
            using var response = await _http.SendAsync(request);
            string text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                throw new SetupException($"{method} {path} -> {(int)response.StatusCode}: {BenchEnv.Shorten(text, 400)}");
            }

            return JsonDocument.Parse(text);
        }

        public Task<JsonDocument> StatsAsync(string key) => SendAsync(HttpMethod.Get, "/v1/admin/stats", key, null);

        public async Task RegisterWebhookAsync(Partner partner, Uri url) =>
            (await SendAsync(HttpMethod.Post, "/v1/webhooks", partner.Key, Encoding.UTF8.GetBytes($"{{\"partner_id\":\"{partner.Id}\",\"webhook_url\":\"{url}\"}}"))).Dispose();

        public async Task UpdateWebhookAsync(Partner partner, Uri url) =>
            (await SendAsync(HttpMethod.Put, $"/v1/webhooks/{partner.Id}", partner.Key, Encoding.UTF8.GetBytes($"{{\"webhook_url\":\"{url}\"}}"))).Dispose();

        public void Dispose() => _http.Dispose();
    }
}
