using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ProspectEvents.Bench;

/// <summary>
/// `scale`: the same work done by 1, 2 and 3 `serve` processes sharing one throwaway PostgreSQL, each count on a
/// fresh database. Per count: the ingest feed POSTed to <c>/v1/admin/observations</c> in batches spread over the
/// processes (first sight, then steady state), the events checked against the planted changes and against the
/// first count's events; fetches of <c>POST /v1/prospects/events</c> with their connections dealt over the
/// processes; then a full outbox drained by every process's dispatcher to the local receiver, each delivery
/// counted once. A trivial-GET baseline on the same placement comes first, so the fetch ratio holds as elsewhere.
/// All servers share core 0, PostgreSQL and the clients core 1: the servers' CPU budget stays one core whatever
/// their number, so a row shows what the coordination between processes costs, not what more cores would give.
/// </summary>
internal static class ScaleBenchmark
{
    private const string EventNames = "('prospect_changed_company', 'prospect_changed_role')";

    private sealed record Context(ScaleOptions O, BenchRun Bench, string ServerDll, ThrowawayPostgres Pg, Uri Receiver, ChildProcess ReceiverProcess, FeedManifest Feed, string FeedDir);

    private sealed record Server(ChildProcess Process, Uri BaseUrl);

    public static async Task<int> RunAsync(ScaleOptions o)
    {
        var bench = await BenchRun.StartAsync("scale", o.ResultsDir, o.NoPin);
        var pin = bench.Pin;
        string? pgBin = await BenchPostgres.FindBinariesAsync(askedByName: true, bench.Warnings);
        if (pgBin is null)
        {
            return 2;
        }

        string pinning = pin.Taskset is null
            ? pin.Description
            : "every server process -> core 0 (`taskset -c 0`, shared); PostgreSQL, load generator, ingest feeder and webhook receiver -> core 1 (`taskset -c 1`)";
        bench.PrintHeader(pinning,
            $"load    : processes {string.Join(", ", o.Processes)}; ingest {o.Prospects:N0} prospects x {o.Snapshots} snapshots in batches of {o.Batch:N0}, {o.InFlight} in flight per process; " +
            $"fetch {o.Connections} connections, {o.Ids} ids, {o.WarmupSeconds}s + {o.Seconds}s; {o.Deliveries:N0} deliveries after {o.WarmupDeliveries:N0} warm-up, Webhooks:Concurrency {o.Concurrency} per process");
        if (pin.Taskset is null)
        {
            bench.Warnings.Add($"not pinned: {pin.Description}");
        }

        string feedDir = FeedGenerator.DefaultDirectory(bench.ResultsDir, o.Prospects, o.Snapshots, o.Seed, gzip: false);
        var feed = o.Regenerate ? null : FeedGenerator.TryLoad(feedDir);
        if (feed is null)
        {
            Console.WriteLine($"feed    : generating into {feedDir}");
            feed = FeedGenerator.Generate(feedDir, o.Prospects, o.Snapshots, o.Seed, gzip: false, l => Console.WriteLine("          " + l));
        }
        else
        {
            Console.WriteLine($"feed    : reusing {feedDir} (delete it or pass --regenerate to rebuild)");
        }

        FeedGenerator.PrintPlanted(feed, feedDir);
        if (await bench.ServerAsync(o.ServerDll, o.NoBuild) is not (var serverDll, var source))
        {
            return 2;
        }

        Console.WriteLine();
        RunRow? baseline = null;
        if (!o.SkipBaseline)
        {
            Console.WriteLine("== baseline: trivial GET on a minimal Kestrel app (echo-server, GET /get), on core 0 like the servers ==");
            baseline = await FetchBenchmark.RunBaselineAsync(new LoadPlan(o.Seconds, o.WarmupSeconds, o.Connections, o.Ids), pin, bench.Dotnet, bench.BenchDll, bench.RunDir);
            if (baseline is null)
            {
                return bench.Finish(2, o.KeepDb);
            }

            Console.WriteLine();
        }

        var receiverUrl = new Uri($"http://127.0.0.1:{Loopback.FreePort()}");
        using var receiver = await DeliveryBenchmark.StartReceiverAsync(pin, bench.Dotnet, bench.BenchDll, bench.RunDir, receiverUrl);
        if (receiver is null)
        {
            return bench.Finish(2, o.KeepDb);
        }

        var (pg, settings) = await BenchPostgres.StartAnnouncedAsync(pgBin, pin.Taskset, "bench");
        if (pg is null)
        {
            return bench.Finish(2, o.KeepDb);
        }

        var rows = new List<ScaleRow>();
        await using (pg)
        {
            var ctx = new Context(o, bench, serverDll, pg, receiverUrl, receiver, feed, feedDir);
            (HashSet<string> Events, int Processes)? reference = null;
            foreach (int n in o.Processes)
            {
                Console.WriteLine();
                Console.WriteLine($"== {n} server process{(n == 1 ? "" : "es")} on one PostgreSQL (database scale_p{n}) ==");
                var (row, events) = await RunProcessesAsync(ctx, n, baseline);
                if (reference is null && events is not null)
                {
                    reference = (events, n);
                }
                else if (reference is { } r && events is not null)
                {
                    row = row with { ComparedToReference = Compare(r.Events, r.Processes, events) };
                    var c = row.ComparedToReference;
                    Console.WriteLine($"events  : against {c.ReferenceProcesses} process{(c.ReferenceProcesses == 1 ? "" : "es")}: {c.Missing:N0} missing, {c.Extra:N0} extra{(c.Examples.Count > 0 ? ": " + string.Join("; ", c.Examples) : "")}");
                }

                rows.Add(row);
            }
        }

        Console.WriteLine("stopped : PostgreSQL (pg_ctl stop -m fast), data directory removed");
        var targets = Targets(rows);
        bool valid = rows.Count == o.Processes.Count && rows.All(r => r.Error is null) && targets.All(t => t.Pass is not false)
            && rows.All(r => r.Fetch is { Row.Load: var l } && l.Errors + l.WarmupErrors == 0)
            && (baseline is null || baseline.Load.Errors + baseline.Load.WarmupErrors == 0);
        var report = bench.Stamped(new ScaleReport
        {
            Options = o,
            FeedDirectory = feedDir,
            Feed = feed,
            PostgresSettings = settings.Ok ? settings.Stdout.Trim() : null,
            Baseline = baseline,
            Rows = rows,
            Targets = targets,
            Warnings = bench.Warnings,
            Valid = valid,
            TotalSeconds = bench.TotalSeconds,
        }, source, pinning);
        PrintReport(bench, report);
        await bench.WriteResultAsync("scale", report, ScaleJsonContext.Default.ScaleReport);
        bool setupFailed = rows.Any(r => r.Error is not null && r.Deliveries is null && r.Fetch is null && r.Ingest.Count == 0);
        return bench.Finish(setupFailed ? 2 : valid ? 0 : 1, o.KeepDb);
    }

    /// <summary>One process count on a fresh database; the stored feed events as keys, for the comparison, when they could be listed.</summary>
    private static async Task<(ScaleRow Row, HashSet<string>? Events)> RunProcessesAsync(Context ctx, int n, RunRow? baseline)
    {
        var (o, bench) = (ctx.O, ctx.Bench);
        string db = $"scale_p{n}";
        var row = new ScaleRow { Processes = n, Database = db };
        var servers = new List<Server>();
        HashSet<string>? events = null;
        try
        {
            await ctx.Pg.CreateDatabaseAsync(db);
            string workDir = Path.Combine(bench.RunDir, db);
            Directory.CreateDirectory(workDir);
            var env = ServerChild.Environment(new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["Storage__Provider"] = "postgres",
                ["Storage__ConnectionString"] = ctx.Pg.ConnectionString(db),
                ["RateLimiting__PermitsPerWindow"] = "1000000000",
                ["Webhooks__AllowPrivateNetworks"] = "true",
                ["Webhooks__Concurrency"] = o.Concurrency.ToString(CultureInfo.InvariantCulture),
            });
            // The measured partner's key is an admin key: it posts observations and fetches as a partner's would.
            var a = await CreatePartnerAsync(ctx, env, workDir, $"scale-p{n}", "admin");
            var w = await CreatePartnerAsync(ctx, env, workDir, $"scale-warmup-p{n}", "partner");
            for (int i = 0; i < n; i++)
            {
                var started = await ServerChild.StartAsync(bench.Pin, bench.Dotnet, [ctx.ServerDll, "serve"], Path.Combine(bench.RunDir, $"server-p{n}-{i + 1}.log"), workDir, env)
                    ?? throw new DeliveryBenchmark.SetupException($"server {i + 1} of {n} did not start");
                servers.Add(new Server(started.Server, started.BaseUrl));
            }

            row = row with { ServerAffinity = [.. servers.Select(s => ProcStats.AffinityList(s.Process.Pid) ?? "n/a")] };
            using var api = new DeliveryBenchmark.Api(servers[0].BaseUrl);

            // The delivery prospects are enrolled first, so the feed ingest also matches against enrollments.
            var sw = Stopwatch.StartNew();
            long enrollments = await DeliveryBenchmark.EnrollAsync(api, a.Key, "t", o.Deliveries) + await DeliveryBenchmark.EnrollAsync(api, w.Key, "w", o.WarmupDeliveries);
            long unindexed = await DeliveryBenchmark.WaitAsync(api, a.Key, s => s.GetProperty("unindexed_enrollments").GetInt64() == 0, TimeSpan.FromMinutes(3));
            Console.WriteLine($"setup   : {enrollments:N0} enrollments ({o.Deliveries:N0} + {o.WarmupDeliveries:N0} delivery prospects) in {sw.Elapsed.TotalSeconds:F1}s{(unindexed > 0 ? $", {unindexed:N0} still unindexed" : ", indexed")}");

            foreach (var file in ctx.Feed.Files)
            {
                var step = await IngestAsync(ctx, servers, a.Key, file);
                row = row with { Ingest = [.. row.Ingest, step] };
                if (step.FailedBatches > 0)
                {
                    throw new DeliveryBenchmark.SetupException($"snapshot {file.Snapshot}: {step.FailedBatches} batches failed: {string.Join("; ", step.ErrorSamples)}");
                }
            }

            ProcessResult? listed = null;
            var check = await IngestBenchmark.CheckEventsAsync($"{n} process{(n == 1 ? "" : "es")}", ctx.Feed, ctx.FeedDir,
                async () => listed = await ctx.Pg.PsqlAsync(db, $"SELECT encode(prospect_id, 'hex'), event_name, observed_at, data FROM events WHERE event_name IN {EventNames}", TimeSpan.FromMinutes(5)));
            row = row with { EventCheck = check };
            string idsFile = Path.Combine(bench.RunDir, $"{db}.ids");
            if (listed is { Ok: true })
            {
                var lines = listed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t', 4)).Where(f => f.Length >= 3).ToList();
                events = [.. lines.Select(f => $"{f[0].Trim()} {f[1]} {f[2]}")];
                await File.WriteAllLinesAsync(idsFile, lines.Select(f => f[0].Trim()).Distinct(StringComparer.Ordinal));
            }

            // The outbox: one company change per delivery prospect, detected while no webhook is registered.
            sw.Restart();
            var first = await DeliveryBenchmark.IngestAsync(api, a.Key, DeliveryBenchmark.Snapshot(1, ("t", o.Deliveries), ("w", o.WarmupDeliveries)));
            var second = await DeliveryBenchmark.IngestAsync(api, a.Key, DeliveryBenchmark.Snapshot(2, ("t", o.Deliveries), ("w", o.WarmupDeliveries)));
            Func<string, Task<ProcessResult>> query = sql => ctx.Pg.PsqlAsync(db, sql);
            var pending = await query("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'");
            Console.WriteLine($"setup   : delivery snapshots: {first.Events:N0} and {second.Events:N0} events; outbox {pending.Stdout.Trim()} pending ({sw.Elapsed.TotalSeconds:F1}s)");
            if (second.Events != o.Deliveries + o.WarmupDeliveries || pending.Stdout.Trim() != (o.Deliveries + o.WarmupDeliveries).ToString(CultureInfo.InvariantCulture))
            {
                throw new DeliveryBenchmark.SetupException($"expected {o.Deliveries + o.WarmupDeliveries:N0} events and pending deliveries, got {second.Events:N0} and {pending.Stdout.Trim()}");
            }

            row = row with { Fetch = await FetchAsync(ctx, servers, a.Key, idsFile, baseline) };
            row = await DeliverAsync(ctx, servers, api, a, w, query, row);
            foreach (var s in servers.Where(s => s.Process.HasExited))
            {
                row = row with { Error = row.Error ?? $"server pid {s.Process.Pid} exited during the run (code {s.Process.Process.ExitCode})" };
            }

            return (row with { ServerPeakRssKb = [.. servers.Select(s => ProcStats.PeakRssKb(s.Process.Pid))] }, events);
        }
        catch (Exception e) when (e is DeliveryBenchmark.SetupException or HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            Console.Error.WriteLine($"error: {n} processes: {e.Message}");
            foreach (var s in servers)
            {
                Console.Error.WriteLine(s.Process.Tail(10));
            }

            return (row with { Error = e.Message }, events);
        }
        finally
        {
            foreach (var s in servers)
            {
                s.Process.Dispose();
            }
        }
    }

    private static async Task<DeliveryBenchmark.Partner> CreatePartnerAsync(Context ctx, Dictionary<string, string?> env, string workDir, string name, string scope) =>
        await ServerChild.CreatePartnerAsync(ctx.Bench.Dotnet, ctx.ServerDll, env, workDir, Path.Combine(ctx.Bench.RunDir, $"partners-create-{name}.log"), name, scope) is { PartnerId: { } id, ApiKey: { } key }
            ? new DeliveryBenchmark.Partner(id, key)
            : throw new DeliveryBenchmark.SetupException($"`partners create {name}` printed no partner (see the error above)");

    /// <summary>One snapshot through the `feed-observations` child: closed loop, <c>--in-flight</c> batches per process.</summary>
    private static async Task<ScaleIngestStep> IngestAsync(Context ctx, List<Server> servers, string adminKey, FeedFile file)
    {
        var (o, bench) = (ctx.O, ctx.Bench);
        string step = file.Snapshot == 1 ? "first sight" : "steady state";
        Console.WriteLine($"-- ingest {file.File} ({step}, {file.Lines:N0} lines, expect {file.ExpectedEvents:N0} events) over {servers.Count} process{(servers.Count == 1 ? "" : "es")}");
        string? resultJson = null;
        double[] cpu0 = [.. servers.Select(s => ProcStats.ProcessCpuSeconds(s.Process.Pid))];
        var pg0 = ctx.Pg.CpuSeconds();
        var core0 = ProcStats.CoreTicks();
        using (var feeder = ChildProcess.Start(
            bench.Pin.LoadGenLauncher(bench.Dotnet),
            [.. bench.Pin.LoadGenPrefix, bench.BenchDll, "feed-observations",
             .. servers.SelectMany(s => new[] { "--url", new Uri(s.BaseUrl, "/v1/admin/observations").ToString() }),
             "--api-key", adminKey, "--file", Path.Combine(ctx.FeedDir, file.File),
             "--batch", o.Batch.ToString(CultureInfo.InvariantCulture), "--in-flight", o.InFlight.ToString(CultureInfo.InvariantCulture)],
            Path.Combine(bench.RunDir, $"feeder-p{servers.Count}-{file.Snapshot}.log"),
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
            await feeder.WaitAsync(TimeSpan.FromMinutes(30));
        }

        double[] cpu1 = [.. servers.Select(s => ProcStats.ProcessCpuSeconds(s.Process.Pid))];
        var pg1 = ctx.Pg.CpuSeconds();
        var core1 = ProcStats.CoreTicks();
        var feed = (resultJson is null ? null : JsonSerializer.Deserialize(resultJson, DeliveryJsonContext.Default.FeedResult))
            ?? throw new DeliveryBenchmark.SetupException($"the ingest feeder gave no result for {file.File}");
        var answered = feed.Batches.Where(b => b is not null).ToList();
        double seconds = answered.Count == 0 ? 0 : (answered.Max(b => b.AckTicks) - answered.Min(b => b.SentTicks)) / (double)TimeSpan.TicksPerSecond;
        long observations = answered.Sum(b => (long)b.Lines);
        var result = new ScaleIngestStep
        {
            Snapshot = file.Snapshot,
            Step = step,
            Lines = file.Lines,
            Observations = observations,
            Events = answered.Sum(b => b.Events),
            ExpectedEvents = file.ExpectedEvents,
            Seconds = Math.Round(seconds, 3),
            ObservationsPerSecond = seconds > 0 ? Math.Round(observations / seconds) : 0,
            Batches = answered.Count,
            FailedBatches = answered.Count(b => b.Error is not null),
            ErrorSamples = [.. answered.Where(b => b.Error is not null).Select(b => $"batch {b.Index}: {b.Error}").Take(5)],
            BatchPost = LatencySummary.Of(answered.Select(b => (b.AckTicks - b.SentTicks) / (double)TimeSpan.TicksPerMillisecond)),
            ServerCpuSeconds = [.. cpu1.Zip(cpu0, (after, before) => Math.Round(after - before, 2))],
            PostgresCpuSeconds = Math.Round(pg1.User + pg1.Sys - pg0.User - pg0.Sys, 2),
            CoreBusyPercent = ProcStats.CorePercent(core0, core1).Busy,
        };
        if (result.Batches < 2 * servers.Count * o.InFlight)
        {
            bench.Warnings.Add($"{servers.Count} processes, {file.File}: only {result.Batches} batches for {servers.Count * o.InFlight} senders: the spread over the processes is coarse and the last batch dominates (pass a smaller --batch)");
        }

        Console.WriteLine($"result  : {result.Observations:N0} observations in {result.Seconds:F1}s = {result.ObservationsPerSecond:N0}/s, {result.Events:N0} events (planted {file.ExpectedEvents:N0}), " +
            $"{result.Batches} batches (POST p50 {result.BatchPost.P50Ms:F0} ms, max {result.BatchPost.MaxMs:F0} ms), failed {result.FailedBatches}");
        Console.WriteLine($"          CPU: servers {string.Join(" + ", result.ServerCpuSeconds.Select(c => c.ToString("F1", CultureInfo.InvariantCulture)))} s, PostgreSQL {result.PostgresCpuSeconds:F1} s; cores {string.Join(" / ", result.CoreBusyPercent.Select(c => $"{c:F0}%"))}");
        return result;
    }

    /// <summary>Fetches of the ingested prospects (wide window: the feed's events lie early in 2026), connections dealt over the processes.</summary>
    private static async Task<ScaleFetch?> FetchAsync(Context ctx, List<Server> servers, string key, string idsFile, RunRow? baseline)
    {
        var (o, bench) = (ctx.O, ctx.Bench);
        string[] ids = File.Exists(idsFile) ? FetchBodyFactory.ReadIds(idsFile) : [];
        if (ids.Length == 0)
        {
            throw new DeliveryBenchmark.SetupException("no prospect with events to fetch");
        }

        // Smoke on every process, and the size of a typical answer: the mean over 50 bodies.
        var bodies = new FetchBodyFactory(ids, o.Ids, FetchWindow.Wide);
        long eventsSeen = 0;
        const int Samples = 50;
        for (int i = 0; i < Samples; i++)
        {
            var url = new Uri(servers[i % servers.Count].BaseUrl, "/v1/prospects/events");
            int len = bodies.Build(i);
            var (status, text) = await ServerChild.PostOnceAsync(url, bodies.Buffer.AsMemory(0, len), key);
            if (status != 200)
            {
                throw new DeliveryBenchmark.SetupException($"smoke POST {url} returned {status}: {BenchEnv.Shorten(text, 400)}");
            }

            using var doc = JsonDocument.Parse(text);
            eventsSeen += doc.RootElement.GetProperty("output_events").GetArrayLength();
        }

        double perResponse = (double)eventsSeen / Samples;
        Console.WriteLine($"-- fetch: {ids.Length:N0} prospects with events; smoke: 200 from every process, {perResponse:F1} events per response (mean of {Samples})");
        var pg0 = ctx.Pg.CpuSeconds();
        string[] more = [.. servers.Skip(1).SelectMany(s => new[] { "--url", new Uri(s.BaseUrl, "/v1/prospects/events").ToString(), "--server-pid", s.Process.Pid.ToString(CultureInfo.InvariantCulture) })];
        var row = await LoadGeneratorChild.MeasureAsync($"fetch-p{servers.Count}", new LoadPlan(o.Seconds, o.WarmupSeconds, o.Connections, o.Ids), bench.Pin, bench.Dotnet, bench.BenchDll,
            servers[0].Process, new Uri(servers[0].BaseUrl, "/v1/prospects/events"), "fetch", key, bench.RunDir, ["--window", "wide", "--ids-file", idsFile, .. more]);
        var pg1 = ctx.Pg.CpuSeconds();
        if (row is null)
        {
            throw new DeliveryBenchmark.SetupException("the fetch load generator gave no result");
        }

        long answered = row.Load.Requests + row.Load.WarmupRequests;
        return new ScaleFetch
        {
            Row = row,
            EventsPerResponse = perResponse,
            Ratio = baseline is { Load.RequestsPerSecond: > 0 } b ? row.Load.RequestsPerSecond / b.Load.RequestsPerSecond : null,
            PostgresCpuMicrosecondsPerRequest = answered > 0 ? Math.Round(1e6 * (pg1.User + pg1.Sys - pg0.User - pg0.Sys) / answered, 1) : double.NaN,
        };
    }

    /// <summary>The warm-up partner's outbox, then the measured one's, drained by every process's dispatcher; each delivery must arrive once.</summary>
    private static async Task<ScaleRow> DeliverAsync(
        Context ctx, List<Server> servers, DeliveryBenchmark.Api api, DeliveryBenchmark.Partner a, DeliveryBenchmark.Partner w, Func<string, Task<ProcessResult>> query, ScaleRow row)
    {
        var o = ctx.O;
        int n = servers.Count;
        var cpu = new Dictionary<string, Func<double>>(StringComparer.Ordinal)
        {
            ["receiver"] = () => ProcStats.ProcessCpuSeconds(ctx.ReceiverProcess.Pid),
            ["postgres"] = () => ctx.Pg.CpuSeconds() is var (user, sys) ? user + sys : double.NaN,
        };
        for (int i = 0; i < n; i++)
        {
            int pid = servers[i].Process.Pid;
            cpu[$"server {i + 1}"] = () => ProcStats.ProcessCpuSeconds(pid);
        }

        Console.WriteLine($"-- deliveries: {o.WarmupDeliveries:N0} warm-up, then {o.Deliveries:N0} measured, claimed by {n} dispatcher{(n == 1 ? "" : "s")}");
        if (o.WarmupDeliveries > 0)
        {
            var warm = await DeliveryBenchmark.MeasureSinkAsync(ctx.Receiver, servers[0].Process, $"warm-p{n}", o.WarmupDeliveries, cpu,
                () => api.RegisterWebhookAsync(w, new Uri(ctx.Receiver, $"/hook/warm-p{n}")));
            warm = await DeliveryBenchmark.RecordedAsync(ctx.Receiver, warm, await DeliveryBenchmark.WaitDrainedAsync(api, a.Key, query, w.Id, warm));
            Console.WriteLine($"result  : warm-up: {warm.Received:N0} of {warm.Expected:N0} arrived, {warm.PerSecond:N0} deliveries/s");
            row = row with { DeliveryWarmup = warm };
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        var tput = await DeliveryBenchmark.MeasureSinkAsync(ctx.Receiver, servers[0].Process, $"tput-p{n}", o.Deliveries, cpu,
            () => api.RegisterWebhookAsync(a, new Uri(ctx.Receiver, $"/hook/tput-p{n}")));
        tput = await DeliveryBenchmark.RecordedAsync(ctx.Receiver, tput, await DeliveryBenchmark.WaitDrainedAsync(api, a.Key, query, a.Id, tput));
        var outbox = await DeliveryBenchmark.OutboxAsync(query, a.Id);
        Console.WriteLine($"result  : {tput.Received:N0} of {tput.Expected:N0} arrived ({tput.DuplicatesWhenRecorded ?? tput.Duplicates} twice), first -> last {tput.FirstToLastSeconds:F2}s = {tput.PerSecond:N0} deliveries/s; " +
            $"outbox {DeliveryBenchmark.Describe(outbox)}");
        Console.WriteLine($"          per second: {string.Join(' ', tput.PerSecondArrivals)}; CPU over {tput.WindowSeconds:F2}s: " +
            string.Join(", ", tput.CpuSeconds.Select(kv => $"{kv.Key} {(tput.WindowSeconds > 0 ? 100 * kv.Value / tput.WindowSeconds : double.NaN):F0}%")));
        return row with { Deliveries = tput, OutboxAfter = outbox };
    }

    private static EventComparison Compare(HashSet<string> reference, int referenceProcesses, HashSet<string> events)
    {
        var missing = reference.Where(e => !events.Contains(e)).ToList();
        var extra = events.Where(e => !reference.Contains(e)).ToList();
        return new EventComparison(referenceProcesses, events.Count, missing.Count, extra.Count,
            [.. missing.Take(3).Select(e => $"missing {e}"), .. extra.Take(3).Select(e => $"extra {e}")]);
    }

    private static List<TargetCheck> Targets(List<ScaleRow> rows)
    {
        var targets = new List<TargetCheck>();
        var first = rows.FirstOrDefault();
        foreach (var r in rows)
        {
            string label = $"{r.Processes} process{(r.Processes == 1 ? "" : "es")}";
            if (r.EventCheck is { } c)
            {
                var cmp = r.ComparedToReference;
                targets.Add(new TargetCheck
                {
                    Name = $"{label}: events detected",
                    Target = cmp is null ? "= the planted changes" : $"= the planted changes and = {cmp.ReferenceProcesses} process's events",
                    Measured = $"matched {c.Matched:N0}, unexpected {c.Unexpected:N0}, missing {c.Missing:N0}" + (cmp is null ? "" : $"; against {cmp.ReferenceProcesses}: {cmp.Missing:N0} missing, {cmp.Extra:N0} extra"),
                    Pass = c.Error is null && c.Unexpected == 0 && c.Missing == 0 && (cmp is null || (cmp.Missing == 0 && cmp.Extra == 0)),
                });
            }

            if (r.Deliveries is { } d)
            {
                long twice = d.DuplicatesWhenRecorded ?? d.Duplicates;
                targets.Add(new TargetCheck
                {
                    Name = $"{label}: deliveries",
                    Target = $"every one of {d.Expected:N0} arrives once and is recorded delivered",
                    Measured = $"{d.Received:N0} arrived, {twice:N0} twice, outbox {DeliveryBenchmark.Describe(r.OutboxAfter)}",
                    Pass = d.Complete && twice == 0 && r.OutboxAfter.GetValueOrDefault("delivered") == d.Expected,
                });
            }

            if (first is not null && r != first)
            {
                targets.Add(new TargetCheck
                {
                    Name = $"{label}: throughput against {first.Processes}",
                    Target = "(no target; the servers share one core)",
                    Measured = $"ingest steady {Times(r.SteadyObservationsPerSecond, first.SteadyObservationsPerSecond)}, fetch {Times(r.Fetch?.Row.Load.RequestsPerSecond, first.Fetch?.Row.Load.RequestsPerSecond)}, " +
                        $"deliveries {Times(r.Deliveries?.PerSecond, first.Deliveries?.PerSecond)}",
                    Pass = null,
                });
            }
        }

        return targets;
    }

    private static string Times(double? value, double? reference) =>
        value is { } v && reference is > 0 ? $"{v / reference.Value:F2} x" : "n/a";

    private static void PrintReport(BenchRun bench, ScaleReport r)
    {
        var o = r.Options;
        Console.WriteLine();
        Console.WriteLine($"== Scale-out: {string.Join(", ", o.Processes)} server processes on one PostgreSQL ({o.Prospects:N0} prospects, fetch {o.Ids} ids at {o.Connections} connections, {o.Deliveries:N0} deliveries) ==");
        Console.WriteLine();
        Console.WriteLine("| processes | ingest first sight obs/s | ingest steady obs/s | fetch req/s | x trivial GET | fetch p50 ms | fetch p99 ms | deliveries/s | x 1st row (ingest / fetch / deliveries) |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        if (r.Baseline is { } b)
        {
            Console.WriteLine($"| baseline GET | – | – | {b.Load.RequestsPerSecond:N0} | – | {b.Load.Latency.P50Ms:F2} | {b.Load.Latency.P99Ms:F2} | – | – |");
        }

        var first = r.Rows.FirstOrDefault();
        foreach (var x in r.Rows)
        {
            var f = x.Fetch?.Row.Load;
            string vs = first is null || x == first ? "–"
                : $"{Times(x.SteadyObservationsPerSecond, first.SteadyObservationsPerSecond)} / {Times(f?.RequestsPerSecond, first.Fetch?.Row.Load.RequestsPerSecond)} / {Times(x.Deliveries?.PerSecond, first.Deliveries?.PerSecond)}";
            Console.WriteLine($"| {x.Processes} | {Num(x.FirstSightObservationsPerSecond)} | {Num(x.SteadyObservationsPerSecond)} | {Num(f?.RequestsPerSecond)} | " +
                $"{(x.Fetch?.Ratio is { } ratio ? ratio.ToString("F3", CultureInfo.InvariantCulture) : "–")} | {f?.Latency.P50Ms:F2} | {f?.Latency.P99Ms:F2} | {Num(x.Deliveries?.PerSecond)} | {vs} |");
        }

        Console.WriteLine();
        Console.WriteLine("CPU per unit of work (servers summed; 100% = one core), where the time goes as processes are added:");
        Console.WriteLine("| processes | ingest steady: servers µs/obs | PostgreSQL µs/obs | fetch: servers µs/req | PostgreSQL µs/req (approx.) | deliveries: servers µs | PostgreSQL µs | server peak RSS MiB |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var x in r.Rows)
        {
            var steady = x.Ingest.Where(s => s.Snapshot > 1).ToList();
            long obs = steady.Sum(s => s.Observations);
            string ingestServers = obs > 0 ? $"{1e6 * steady.Sum(s => s.ServerCpuSeconds.Sum()) / obs:F1}" : "–";
            string ingestPg = obs > 0 ? $"{1e6 * steady.Sum(s => s.PostgresCpuSeconds) / obs:F1}" : "–";
            var l = x.Fetch?.Row.Load;
            string fetchServers = l is { Cpu: { } c, RequestsPerSecond: > 0 } ? $"{1e6 * c.ServerCpuSeconds / (l.RequestsPerSecond * c.Seconds):F0}" : "–";
            var d = x.Deliveries;
            double serverCpu = d is null ? double.NaN : d.CpuSeconds.Where(kv => kv.Key.StartsWith("server", StringComparison.Ordinal)).Sum(kv => kv.Value);
            string dServers = d is { Received: > 0 } ? $"{1e6 * serverCpu / d.Received:F0}" : "–";
            string dPg = d is { Received: > 0 } && d.CpuSeconds.TryGetValue("postgres", out double pgCpu) ? $"{1e6 * pgCpu / d.Received:F0}" : "–";
            Console.WriteLine($"| {x.Processes} | {ingestServers} | {ingestPg} | {fetchServers} | {x.Fetch?.PostgresCpuMicrosecondsPerRequest:F0} | {dServers} | {dPg} | {string.Join(" / ", x.ServerPeakRssKb.Select(k => (k / 1024).ToString(CultureInfo.InvariantCulture)))} |");
        }

        bench.PrintVerdict("checks:", r.Targets, r.Valid,
            "INVALID BENCHMARK: a step failed, a request failed, or an event or delivery was wrong, missing or sent twice.",
            [.. r.Rows.Where(x => x.Error is not null).Select(x => $"{x.Processes} processes: {x.Error}"),
             .. r.Rows.Where(x => x.Fetch is { Row.Load: var l } && l.Errors + l.WarmupErrors > 0).Select(x => $"{x.Processes} processes: fetch errors: {string.Join("; ", x.Fetch!.Row.Load.ErrorSamples)}")]);
    }

    private static string Num(double? v) => v is { } x && !double.IsNaN(x) ? x.ToString("N0", CultureInfo.InvariantCulture) : "–";
}
