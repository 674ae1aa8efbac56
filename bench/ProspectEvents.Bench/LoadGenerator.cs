using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace ProspectEvents.Bench;

/// <summary>
/// Closed-loop HTTP/1.1 load generator: <c>connections</c> loops, each sending requests back to back
/// over a shared SocketsHttpHandler capped at <c>connections</c> connections (so one loop ~ one
/// connection). Runs a warm-up that is not counted, then a timed window. Every request that completes
/// inside the window is counted and its latency recorded (Stopwatch ticks, one growable long[] per
/// loop). With several URLs (servers behind one imagined load balancer) the connections are dealt round-robin over
/// them. Prints progress to stderr and one "RESULT {json}" line to stdout.
/// </summary>
internal static class LoadGenerator
{
    private const int MaxErrorSamples = 5;

    public static async Task<int> RunAsync(LoadOptions o)
    {
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = o.Connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseCookies = false,
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        using var client = new HttpClient(handler)
        {
            Timeout = TimeSpan.FromSeconds(30),
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        string[]? known = o.IdsFile is null ? null : FetchBodyFactory.ReadIds(o.IdsFile);
        IRequestBodies Bodies(int worker) => o.Kind switch
        {
            BodyKind.Fetch => new FetchBodyFactory(known ?? throw new CliException("--kind fetch needs --ids-file"), o.Ids, o.Window),
            BodyKind.Get => new NoBody(),
            _ => new BodyFactory(worker, o.Ids, o.WebhookId),
        };
        int bodyBytes = Bodies(0).Build(0);

        long freq = Stopwatch.Frequency;
        long start = Stopwatch.GetTimestamp();
        long windowStart = start + (o.WarmupSeconds * freq);
        long windowEnd = windowStart + (o.Seconds * freq);
        // Hard bound on the whole run: window end + client timeout + slack.
        using var hardStop = new CancellationTokenSource(TimeSpan.FromSeconds(o.WarmupSeconds + o.Seconds + 45));

        var errorsByKind = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var errorSamples = new ConcurrentQueue<string>();
        var workers = new Worker[o.Connections];
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = new Worker(w, Bodies(w), o.Seconds);
        }

        Console.Error.WriteLine(
            $"loadgen: {o.Connections} connections -> {(o.Kind == BodyKind.Get ? "GET" : "POST")} {string.Join(", ", o.Urls)} ({o.Kind.ToString().ToLowerInvariant()}, {o.Ids} ids, ~{bodyBytes} B body), " +
            $"warm-up {o.WarmupSeconds}s + window {o.Seconds}s, affinity {ProcStats.AffinityList(Environment.ProcessId) ?? "n/a"}");

        var sampler = Task.Run(() => SampleCpu(o.ServerPids, windowStart, windowEnd, hardStop.Token));
        var tasks = workers.Select(w => Task.Run(() => w.RunAsync(client, o, windowStart, windowEnd, errorsByKind, errorSamples, hardStop.Token))).ToArray();
        await Task.WhenAll(tasks);
        CpuSample? cpu = await sampler;

        // Measured after the run (steady-state JIT, nothing else competing on this core).
        double buildNs = MeasureBodyBuild(Bodies(999));

        long requests = workers.Sum(w => w.WindowRequests);
        long errors = workers.Sum(w => w.WindowErrors);
        double windowSeconds = o.Seconds;
        var all = new long[workers.Sum(w => w.LatencyCount)];
        int offset = 0;
        foreach (var w in workers)
        {
            Array.Copy(w.Latencies, 0, all, offset, w.LatencyCount);
            offset += w.LatencyCount;
        }

        var result = new LoadResult
        {
            Url = string.Join(' ', o.Urls),
            Kind = o.Kind.ToString().ToLowerInvariant(),
            Connections = o.Connections,
            Ids = o.Ids,
            WindowSeconds = windowSeconds,
            Requests = requests,
            Errors = errors,
            WarmupRequests = workers.Sum(w => w.WarmupRequests),
            WarmupErrors = workers.Sum(w => w.WarmupErrors),
            RequestsPerSecond = requests / windowSeconds,
            Latency = LatencySummary.Of(all.Select(t => t * 1000.0 / Stopwatch.Frequency)),
            PerSecondRequests = [.. Enumerable.Range(0, o.Seconds).Select(i => workers.Sum(w => w.PerSecond[i]))],
            ErrorsByKind = new Dictionary<string, long>(errorsByKind, StringComparer.Ordinal),
            ErrorSamples = [.. errorSamples],
            BodyBuildNanoseconds = buildNs,
            BodyBytes = bodyBytes,
            Cpu = cpu,
            AffinityList = ProcStats.AffinityList(Environment.ProcessId),
        };

        Console.Out.WriteLine("RESULT " + JsonSerializer.Serialize(result, ReportJsonContext.Default.LoadResult).ReplaceLineEndings(" "));
        return errors + result.WarmupErrors > 0 ? 1 : 0;
    }

    private static double MeasureBodyBuild(IRequestBodies f)
    {
        for (int i = 0; i < 50_000; i++)
        {
            f.Build(i);
        }

        const int n = 50_000;
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < n; i++)
        {
            f.Build(i);
        }

        return Stopwatch.GetElapsedTime(t0).TotalNanoseconds / n;
    }

    private static async Task<CpuSample?> SampleCpu(IReadOnlyList<int> serverPids, long windowStart, long windowEnd, CancellationToken ct)
    {
        try
        {
            await Task.Delay(Remaining(windowStart), ct);
            long t0 = Stopwatch.GetTimestamp();
            var s0 = ServersUserSys(serverPids);
            double l0 = ProcStats.ProcessCpuSeconds(Environment.ProcessId);
            var c0 = ProcStats.CoreTicks();

            await Task.Delay(Remaining(windowEnd), ct);
            var s1 = ServersUserSys(serverPids);
            double l1 = ProcStats.ProcessCpuSeconds(Environment.ProcessId);
            var c1 = ProcStats.CoreTicks();
            double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;

            var (busy, steal) = ProcStats.CorePercent(c0, c1);
            double user = s1.Item1 - s0.Item1;
            double sys = s1.Item2 - s0.Item2;
            return new CpuSample(seconds, user + sys, user, sys, l1 - l0, busy, steal);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>(user, sys) seconds of all the servers together; NaN when none was named.</summary>
    private static (double User, double Sys) ServersUserSys(IReadOnlyList<int> pids) =>
        pids.Count == 0
            ? (double.NaN, double.NaN)
            : pids.Select(ProcStats.ProcessUserSysSeconds).Aggregate((a, b) => (a.User + b.User, a.Sys + b.Sys));

    private static TimeSpan Remaining(long deadline)
    {
        long now = Stopwatch.GetTimestamp();
        return now >= deadline ? TimeSpan.Zero : Stopwatch.GetElapsedTime(now, deadline);
    }

    private sealed class Worker(int id, IRequestBodies bodies, int seconds)
    {
        private long[] _latencies = new long[16_384];

        /// <summary>Requests completed in each second of the window (stability check).</summary>
        public long[] PerSecond { get; } = new long[seconds];

        public long[] Latencies => _latencies;

        public int LatencyCount { get; private set; }

        public long WindowRequests { get; private set; }

        public long WindowErrors { get; private set; }

        public long WarmupRequests { get; private set; }

        public long WarmupErrors { get; private set; }

        public async Task RunAsync(
            HttpClient client,
            LoadOptions o,
            long windowStart,
            long windowEnd,
            ConcurrentDictionary<string, long> errorsByKind,
            ConcurrentQueue<string> errorSamples,
            CancellationToken ct)
        {
            var contentType = new MediaTypeHeaderValue("application/json");
            long n = 0;
            while (!ct.IsCancellationRequested && Stopwatch.GetTimestamp() < windowEnd)
            {
                int length = bodies.Build(n++);
                using var request = new HttpRequestMessage(o.Kind == BodyKind.Get ? HttpMethod.Get : HttpMethod.Post, o.Urls[id % o.Urls.Count]);
                if (o.Kind != BodyKind.Get)
                {
                    request.Content = new ByteArrayContent(bodies.Buffer, 0, length);
                    request.Content.Headers.ContentType = contentType;
                }
                if (o.ApiKey is not null)
                {
                    request.Headers.TryAddWithoutValidation("api_key", o.ApiKey);
                }

                string? error = null;
                long t0 = Stopwatch.GetTimestamp();
                try
                {
                    using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
                    if (!response.IsSuccessStatusCode)
                    {
                        error = $"http_{(int)response.StatusCode}";
                        if (errorSamples.Count < MaxErrorSamples)
                        {
                            string body = await response.Content.ReadAsStringAsync(ct);
                            errorSamples.Enqueue($"worker {id} #{n}: {(int)response.StatusCode} {Truncate(body, 400)}");
                        }
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    if (ct.IsCancellationRequested)
                    {
                        break; // hard stop, not a server error
                    }

                    error = e is TaskCanceledException ? "timeout" : $"exception_{e.GetType().Name}";
                    if (errorSamples.Count < MaxErrorSamples)
                    {
                        errorSamples.Enqueue($"worker {id} #{n}: {e.GetType().Name}: {Truncate(e.Message, 400)}");
                    }
                }

                long t1 = Stopwatch.GetTimestamp();
                if (error is not null)
                {
                    errorsByKind.AddOrUpdate(error, 1, (_, c) => c + 1);
                }

                if (t1 < windowStart)
                {
                    WarmupRequests++;
                    if (error is not null)
                    {
                        WarmupErrors++;
                    }
                }
                else if (t1 <= windowEnd)
                {
                    WindowRequests++;
                    if (error is not null)
                    {
                        WindowErrors++;
                    }

                    if (LatencyCount == _latencies.Length)
                    {
                        Array.Resize(ref _latencies, _latencies.Length * 2);
                    }

                    _latencies[LatencyCount++] = t1 - t0;
                    long second = (t1 - windowStart) / Stopwatch.Frequency;
                    PerSecond[Math.Min(second, PerSecond.Length - 1)]++;
                }
            }
        }

        private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max] + "...";
    }
}
