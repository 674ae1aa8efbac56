using System.Text;

namespace ProspectEvents.Bench;

/// <summary>
/// `enrollments`: measures the echo baseline and the real ProspectEvents server back to back in one
/// run (same load generator, same bodies, same pinning), prints both rows, the req/s ratio and the
/// target check. Each server is a separate child process pinned to core 0; the load generator is a
/// separate child process pinned to core 1.
/// </summary>
internal static class EnrollmentBenchmark
{
    private const string EnrollmentPath = "/v1/prospects/events/enrollments";
    private const string EnrollmentPathV2 = "/v2/prospects/events/enrollments";
    private const double TargetRatio = 0.15;
    private const double TargetP99Ms = 25.0;
    private const double TargetV2ProspectsPerSecond = 150_000;
    private const double TargetV2P99Ms = 100.0;

    public static async Task<int> RunAsync(EnrollmentOptions o)
    {
        var bench = await BenchRun.StartAsync("enrollments", o.ResultsDir, o.NoPin);
        var pin = bench.Pin;
        string dotnet = bench.Dotnet, benchDll = bench.BenchDll, runDir = bench.RunDir;
        bench.PrintHeader(pin.Description,
            $"load    : {o.Connections} connections, {o.Ids} prospect ids/request, warm-up {o.WarmupSeconds}s (not counted) + {o.Seconds}s window per server");
        Console.WriteLine();

        // 1. Build the real server first (unpinned, so the build gets both cores) and fail fast.
        string? serverDll = null;
        string? source = null;
        if (!o.BaselineOnly)
        {
            if (await bench.ServerAsync(o.ServerDll, o.NoBuild, "; use --baseline-only to measure just the baseline") is not (var dll, var built))
            {
                return 2;
            }

            (serverDll, source) = (dll, built);
        }

        var rows = new List<RunRow>();
        bool setupFailed = false;

        // 2. Baseline.
        if (!o.RealOnly)
        {
            Console.WriteLine("== baseline: echo server (minimal Kestrel, STJ source-gen, POST /echo) ==");
            RunRow? row = await RunEchoAsync(o, pin, dotnet, benchDll, runDir);
            if (row is null)
            {
                setupFailed = true;
            }
            else
            {
                rows.Add(row);
            }

            Console.WriteLine();
        }

        // 3. Real server.
        if (!o.BaselineOnly && !setupFailed)
        {
            Console.WriteLine($"== real: ProspectEvents.Server (POST {EnrollmentPath}, SQLite) ==");
            RunRow? row = await RunRealAsync(o, pin, dotnet, benchDll, serverDll!, runDir);
            if (row is null)
            {
                setupFailed = true;
            }
            else
            {
                rows.Add(row);
            }

            Console.WriteLine();
        }

        // 4. Report.
        RunRow? baseline = rows.FirstOrDefault(r => r.Name == "baseline");
        RunRow? real = rows.FirstOrDefault(r => r.Name == "real");
        double? ratio = baseline is not null && real is not null && baseline.Load.RequestsPerSecond > 0
            ? real.Load.RequestsPerSecond / baseline.Load.RequestsPerSecond
            : null;
        bool hadErrors = rows.Any(r => r.Load.Errors + r.Load.WarmupErrors > 0);
        var report = bench.Stamped(new BenchReport
        {
            Rows = rows,
            Ratio = ratio,
            RatioPass = ratio is null ? null : ratio >= TargetRatio,
            P99Pass = real is null ? null : real.Load.Latency.P99Ms <= TargetP99Ms,
            HadErrors = hadErrors,
        }, source, pin.Description);
        PrintReport(report, o);

        await bench.WriteResultAsync("enrollments", report, ReportJsonContext.Default.BenchReport);
        return bench.Finish(setupFailed ? 2 : hadErrors ? 1 : 0, keep: false);
    }

    private static async Task<RunRow?> RunEchoAsync(EnrollmentOptions o, Pinning pin, string dotnet, string benchDll, string runDir)
    {
        var started = await ServerChild.StartAsync(pin, dotnet, [benchDll, "echo-server"], Path.Combine(runDir, "echo-server.log"), runDir, ServerChild.Environment(extra: null));
        if (started is null)
        {
            return null;
        }

        using var server = started.Value.Server;
        var baseUrl = started.Value.BaseUrl;

        // Smoke: the echo must round-trip the body byte for byte (same JSON shape and naming).
        var (status, text, sent) = await SmokeAsync(new Uri(baseUrl, "/echo"), o.Ids, apiKey: null);
        int len = sent.Length;
        if (status != 200)
        {
            Console.Error.WriteLine($"error: echo smoke POST returned {status}: {text}");
            return null;
        }

        Console.WriteLine(string.Equals(text, sent, StringComparison.Ordinal)
            ? $"smoke   : POST /echo -> 200, body round-trips byte for byte ({len} B)"
            : $"smoke   : POST /echo -> 200 but body differs from request (sent {len} B, got {text.Length} chars)");

        return await RunLoadAsync("baseline", o, pin, dotnet, benchDll, server, new Uri(baseUrl, "/echo"), "echo", apiKey: null, runDir);
    }

    private static async Task<RunRow?> RunRealAsync(EnrollmentOptions o, Pinning pin, string dotnet, string benchDll, string serverDll, string runDir)
    {
        string workDir = Path.Combine(runDir, "server");
        Directory.CreateDirectory(workDir);
        // Default: the database lives in the server's working directory (its content root), like the
        // shipped default Data Source=data/prospect-events.db. --db-outside-workdir moves it next door.
        string dbDir = o.DbOutsideWorkdir ? Path.Combine(runDir, "db") : workDir;
        Directory.CreateDirectory(dbDir);
        string db = Path.Combine(dbDir, "bench.db");
        var env = ServerChild.Environment(new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Storage__ConnectionString"] = $"Data Source={db}",
            ["RateLimiting__PermitsPerWindow"] = "1000000000",
            // The v2 run's webhook points at a closed loopback port: no event is detected, so nothing is sent to it.
            ["Webhooks__AllowPrivateNetworks"] = "true",
        });

        // API key first (same env and working directory as the server).
        var partner = await ServerChild.CreatePartnerAsync(dotnet, serverDll, env, workDir, Path.Combine(runDir, "partners-create.log"), "bench");
        if (partner?.ApiKey is not { } apiKey)
        {
            return null;
        }

        Console.WriteLine($"partner : created, api key {apiKey[..Math.Min(8, apiKey.Length)]}... (db {db})");

        var started = await ServerChild.StartAsync(pin, dotnet, [serverDll, "serve"], Path.Combine(runDir, "real-server.log"), workDir, env);
        if (started is null)
        {
            return null;
        }

        using var server = started.Value.Server;
        var baseUrl = started.Value.BaseUrl;

        string? webhookId = null;
        if (o.Api == "v2")
        {
            var (created, body) = await ServerChild.PostOnceAsync(new Uri(baseUrl, "/v2/webhooks"),
                System.Text.Encoding.UTF8.GetBytes("""{"name":"bench","webhook_url":"http://127.0.0.1:9/hooks"}"""), apiKey);
            webhookId = created == 201 ? System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("webhook_id").GetString() : null;
            if (webhookId is null)
            {
                Console.Error.WriteLine($"error: POST /v2/webhooks returned {created}: {body}");
                return null;
            }

            Console.WriteLine($"webhook : {webhookId} (v2 enrollments are bound to it)");
        }

        var url = new Uri(baseUrl, PathOf(o));
        var (status, text, _) = await SmokeAsync(url, o.Ids, apiKey, webhookId);
        if (status is < 200 or > 299)
        {
            Console.Error.WriteLine($"error: smoke POST {PathOf(o)} returned {status}: {text}");
            Console.Error.WriteLine(server.Tail());
            return null;
        }

        bool hasId = text.Contains("\"enrollment_id\":\"en_", StringComparison.Ordinal);
        Console.WriteLine($"smoke   : POST {PathOf(o)} -> {status}{(hasId ? "" : " (WARNING: no enrollment_id \"en_...\" in body)")}: {BenchEnv.Shorten(text, 200)}");

        RunRow? row = await RunLoadAsync("real", o, pin, dotnet, benchDll, server, url, "enrollment", apiKey, runDir,
            webhookId is null ? [] : ["--webhook-id", webhookId]);
        if (row is not null && File.Exists(db))
        {
            long bytes = new FileInfo(db).Length + (File.Exists(db + "-wal") ? new FileInfo(db + "-wal").Length : 0);
            row = row with { Notes = $"sqlite db {(o.DbOutsideWorkdir ? "outside" : "inside")} the server working dir, db+wal after run {bytes / (1024.0 * 1024.0):F1} MiB" };
        }

        return row;
    }

    /// <summary>One request with the load's first body before the load, so a server that answers wrongly fails the run at once.</summary>
    private static async Task<(int Status, string Text, string Sent)> SmokeAsync(Uri url, int ids, string? apiKey, string? webhookId = null)
    {
        var bodies = new BodyFactory(9999, ids, webhookId);
        int len = bodies.Build(0);
        var (status, text) = await ServerChild.PostOnceAsync(url, bodies.Buffer.AsMemory(0, len), apiKey);
        return (status, text, Encoding.UTF8.GetString(bodies.Buffer, 0, len));
    }

    private static Task<RunRow?> RunLoadAsync(
        string name, EnrollmentOptions o, Pinning pin, string dotnet, string benchDll, ChildProcess server, Uri url, string kind, string? apiKey, string runDir,
        string[]? extraArgs = null) =>
        LoadGeneratorChild.MeasureAsync(name, new LoadPlan(o.Seconds, o.WarmupSeconds, o.Connections, o.Ids), pin, dotnet, benchDll, server, url, kind, apiKey, runDir,
            extraArgs ?? []);

    private static string PathOf(EnrollmentOptions o) => o.Api == "v2" ? EnrollmentPathV2 : EnrollmentPath;

    private static void PrintReport(BenchReport r, EnrollmentOptions o)
    {
        Console.WriteLine($"== Enrollment POST ({o.Ids} ids, SQLite, {o.Connections} connections), {o.Seconds}s window after {o.WarmupSeconds}s warm-up ==");
        Console.WriteLine();
        Console.WriteLine("| run | req/s | p50 ms | p99 ms | p99.9 ms | max ms | requests | errors | server CPU | core0 busy / steal | core1 busy / steal |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in r.Rows)
        {
            var l = row.Load;
            var cpu = l.Cpu;
            string serverCpu = cpu is null || double.IsNaN(cpu.ServerCpuSeconds)
                ? "n/a"
                : $"{100 * cpu.ServerCpuSeconds / cpu.Seconds:F0}% ({100 * cpu.ServerUserSeconds / cpu.Seconds:F0} usr + {100 * cpu.ServerSysSeconds / cpu.Seconds:F0} sys)";
            string Core(int i) => cpu is null || cpu.CoreBusyPercent.Length <= i ? "n/a" : $"{cpu.CoreBusyPercent[i]:F0}% / {cpu.CoreStealPercent[i]:F0}%";
            string label = row.Name == "baseline" ? "baseline (echo)" : "real (ProspectEvents.Server)";
            Console.WriteLine(
                $"| {label} | {l.RequestsPerSecond:F0} | {l.Latency.P50Ms:F2} | {l.Latency.P99Ms:F2} | {l.Latency.P999Ms:F2} | {l.Latency.MaxMs:F2} | {l.Requests} | {l.Errors + l.WarmupErrors} | {serverCpu} | {Core(0)} | {Core(1)} |");
        }

        Console.WriteLine();
        Console.WriteLine("server CPU = server process utime+stime over the window / window length (100% = one full core).");
        foreach (var row in r.Rows)
        {
            string perRequest = row.Load.Cpu is { } rc && row.Load.Requests > 0 && !double.IsNaN(rc.ServerCpuSeconds)
                ? $"{1e6 * rc.ServerCpuSeconds / (row.Load.RequestsPerSecond * rc.Seconds):F0} µs"
                : "n/a";
            Console.WriteLine($"{row.Name}: server CPU per request {perRequest}, server peak RSS {row.ServerPeakRssKb / 1024.0:F0} MiB, server affinity {row.ServerAffinity ?? "n/a"}, loadgen affinity {row.Load.AffinityList ?? "n/a"}, " +
                $"loadgen CPU {(row.Load.Cpu is { } c ? $"{100 * c.LoadGenCpuSeconds / c.Seconds:F0}%" : "n/a")}, body {row.Load.BodyBytes} B built in {row.Load.BodyBuildNanoseconds:F0} ns" +
                (row.Notes is null ? "" : $", {row.Notes}"));
        }

        // Pinning keeps the server and the generator apart, not other tenants of the machine: show how
        // much of each core went to anything else during the window.
        foreach (var row in r.Rows)
        {
            if (row.Load.Cpu is not { CoreBusyPercent.Length: >= 2 } c || c.Seconds <= 0)
            {
                continue;
            }

            double other0 = c.CoreBusyPercent[0] - (100 * c.ServerCpuSeconds / c.Seconds);
            double other1 = c.CoreBusyPercent[1] - (100 * c.LoadGenCpuSeconds / c.Seconds);
            // Core 0 noise always hurts the server; core 1 noise only matters once the generator is short of CPU.
            double loadGen = 100 * c.LoadGenCpuSeconds / c.Seconds;
            string warn = other0 > 10 || (other1 > 10 && loadGen + other1 > 90)
                ? "  <-- WARNING: other processes competed on this core; numbers are disturbed, consider re-running"
                : "";
            Console.WriteLine($"{row.Name}: other load during window: core 0 {Math.Max(0, other0):F0}%, core 1 {Math.Max(0, other1):F0}%{warn}");
        }

        // Steady state: compare the first and last third of the per-second series; a rising series means
        // the warm-up was too short (JIT tiering still in progress) and the row understates the server.
        foreach (var row in r.Rows)
        {
            long[] ps = row.Load.PerSecondRequests;
            if (ps.Length < 6)
            {
                continue;
            }

            int third = ps.Length / 3;
            double first = ps.Take(third).Average();
            double last = ps.Skip(ps.Length - third).Average();
            double drift = first > 0 ? (last - first) / first : 0;
            string warn = drift > 0.15
                ? "  <-- WARNING: still speeding up (not at steady state); use a longer --warmup"
                : drift < -0.15 ? "  <-- WARNING: slowing down during the window" : "";
            Console.WriteLine($"{row.Name}: throughput drift over the window (last third vs first third) {drift:+0%;-0%;0%}{warn}");

            if (row.Load.Cpu is { Seconds: > 0 } c && 100 * c.LoadGenCpuSeconds / c.Seconds > 85)
            {
                Console.WriteLine($"{row.Name}: load generator used {100 * c.LoadGenCpuSeconds / c.Seconds:F0}% of its core  <-- WARNING: may be generator-bound (this row is then a lower bound)");
            }
        }

        var real = r.Rows.FirstOrDefault(x => x.Name == "real");
        if (r.Ratio is { } ratio)
        {
            Console.WriteLine();
            Console.WriteLine($"ratio real/baseline req/s = {ratio:F3}");
        }

        if (real is not null)
        {
            Console.WriteLine();
            Console.WriteLine("target (design): real >= 0.15 x echo baseline req/s, real p99 <= 25 ms");
            Console.WriteLine(r.Ratio is { } ratio2
                ? $"  [{(ratio2 >= TargetRatio ? "PASS" : "FAIL")}] ratio {ratio2:F3} >= {TargetRatio:F2}"
                : "  [n/a ] ratio (baseline not run)");
            Console.WriteLine($"  [{(real.Load.Latency.P99Ms <= TargetP99Ms ? "PASS" : "FAIL")}] p99 {real.Load.Latency.P99Ms:F2} ms <= {TargetP99Ms:F0} ms");
            if (o.Api == "v2")
            {
                // The v2 target is in prospects: a request carries up to 1,000 of them.
                double prospects = real.Load.RequestsPerSecond * o.Ids;
                Console.WriteLine($"target (design, v2): >= {TargetV2ProspectsPerSecond:N0} prospect enrollments/s, p99 <= {TargetV2P99Ms:F0} ms");
                Console.WriteLine($"  [{(prospects >= TargetV2ProspectsPerSecond ? "PASS" : "FAIL")}] {prospects:N0} prospect enrollments/s ({o.Ids} a request)");
                Console.WriteLine($"  [{(real.Load.Latency.P99Ms <= TargetV2P99Ms ? "PASS" : "FAIL")}] p99 {real.Load.Latency.P99Ms:F2} ms <= {TargetV2P99Ms:F0} ms");
            }
        }

        if (r.HadErrors)
        {
            Console.WriteLine();
            Console.WriteLine(new string('!', 78));
            Console.WriteLine("!!! INVALID BENCHMARK: some requests failed (non-2xx or transport errors).");
            foreach (var row in r.Rows.Where(x => x.Load.Errors + x.Load.WarmupErrors > 0))
            {
                Console.WriteLine($"!!! {row.Name}: {row.Load.Errors} errors in window, {row.Load.WarmupErrors} in warm-up: " +
                    string.Join(", ", row.Load.ErrorsByKind.Select(kv => $"{kv.Key}={kv.Value}")));
                foreach (string s in row.Load.ErrorSamples)
                {
                    Console.WriteLine($"!!!   {s}");
                }
            }

            Console.WriteLine(new string('!', 78));
        }
    }

}
