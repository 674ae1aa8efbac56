using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ProspectEvents.Bench;

/// <summary>
/// The baseline of the `deliveries` benchmark (hidden verb `post-bodies`): plain concurrent HttpClient POSTs of the
/// very requests the real dispatcher sent (bodies and headers as the receiver recorded them, signatures included as
/// fixed text, nothing computed), <c>concurrency</c> in flight, to the same receiver. A warm-up to another sink comes
/// first; then <c>count</c> requests are sent, and the receiver's first-to-last arrival rate is the number compared.
/// Prints progress to stderr and one "RESULT {json}" line to stdout.
/// </summary>
internal static class BodyPoster
{
    public static async Task<int> RunAsync(PostBodiesOptions o)
    {
        var samples = JsonSerializer.Deserialize(await File.ReadAllTextAsync(o.BodiesFile), ReceiverJsonContext.Default.ListRequestSample) ?? [];
        if (samples.Count == 0)
        {
            throw new CliException($"no request samples in {o.BodiesFile}");
        }

        var requests = samples.Select(s => (Body: Encoding.UTF8.GetBytes(s.Body), s.Headers)).ToArray();
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = o.Concurrency,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseCookies = false,
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        var errors = new ConcurrentErrors();
        Console.Error.WriteLine($"post-bodies: {requests.Length} distinct requests (avg body {requests.Average(r => r.Body.Length):F0} B), {o.Concurrency} in flight, " +
            $"warm-up {o.WarmupSeconds}s -> {o.WarmupUrl}, then {o.Count:N0} -> {o.Url}, affinity {ProcStats.AffinityList(Environment.ProcessId) ?? "n/a"}");

        long warmupEnd = Stopwatch.GetTimestamp() + (o.WarmupSeconds * Stopwatch.Frequency);
        long warmupRequests = 0;
        await Task.WhenAll(Enumerable.Range(0, o.Concurrency).Select(w => Task.Run(async () =>
        {
            for (int i = w; Stopwatch.GetTimestamp() < warmupEnd; i += o.Concurrency)
            {
                errors.Warmup(await SendAsync(client, o.WarmupUrl, requests[i % requests.Length]));
                Interlocked.Increment(ref warmupRequests);
            }
        })));

        double cpu0 = ProcStats.ProcessCpuSeconds(Environment.ProcessId);
        long next = -1;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, o.Concurrency).Select(_ => Task.Run(async () =>
        {
            long i;
            while ((i = Interlocked.Increment(ref next)) < o.Count)
            {
                errors.Window(await SendAsync(client, o.Url, requests[i % requests.Length]));
            }
        })));
        double seconds = sw.Elapsed.TotalSeconds;
        double cpu = ProcStats.ProcessCpuSeconds(Environment.ProcessId) - cpu0;

        var result = new PostBodiesResult
        {
            Count = o.Count,
            Concurrency = o.Concurrency,
            DistinctRequests = requests.Length,
            AverageBodyBytes = requests.Average(r => r.Body.Length),
            Seconds = seconds,
            RequestsPerSecond = o.Count / seconds,
            Errors = errors.WindowCount,
            WarmupRequests = warmupRequests,
            WarmupErrors = errors.WarmupCount,
            ErrorSamples = errors.Samples,
            CpuSeconds = cpu,
            AffinityList = ProcStats.AffinityList(Environment.ProcessId),
        };
        Console.Out.WriteLine("RESULT " + JsonSerializer.Serialize(result, DeliveryJsonContext.Default.PostBodiesResult).ReplaceLineEndings(" "));
        // Stay a moment, so the orchestrator (which polls the receiver) can still read this process's CPU time.
        await Task.Delay(TimeSpan.FromSeconds(2));
        return result.Errors + result.WarmupErrors > 0 ? 1 : 0;
    }

    /// <summary>One POST, built the way WebhookSender builds it; null on a 2xx, else what went wrong.</summary>
    private static async Task<string?> SendAsync(HttpClient client, Uri url, (byte[] Body, List<string[]> Headers) sample)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(sample.Body) };
        foreach (string[] header in sample.Headers)
        {
            if (string.Equals(header[0], "Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                request.Content.Headers.TryAddWithoutValidation(header[0], header[1]);
            }
            else
            {
                request.Headers.TryAddWithoutValidation(header[0], header[1]);
            }
        }

        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            await response.Content.CopyToAsync(Stream.Null);
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    private sealed class ConcurrentErrors
    {
        private readonly Lock _gate = new();

        public long WindowCount { get; private set; }

        public long WarmupCount { get; private set; }

        public List<string> Samples { get; } = [];

        public void Warmup(string? error) => Count(error, warmup: true);

        public void Window(string? error) => Count(error, warmup: false);

        private void Count(string? error, bool warmup)
        {
            if (error is null)
            {
                return;
            }

            lock (_gate)
            {
                if (warmup)
                {
                    WarmupCount++;
                }
                else
                {
                    WindowCount++;
                }

                if (Samples.Count < 5)
                {
                    Samples.Add(error);
                }
            }
        }
    }
}

/// <summary>
/// The paced feed of the latency phase (hidden verb `feed-observations`): POSTs an NDJSON file to
/// <c>/v1/admin/observations</c> in batches of <c>batch</c> lines, one batch every <c>interval</c> ms on a fixed
/// schedule (open loop: a slow answer does not delay the next batch), and records when each batch was sent and
/// acknowledged (UTC ticks) and how many events it produced. With <c>--in-flight K</c> it is a closed loop instead
/// (the `scale` benchmark's ingest): K senders per URL take the next batch as soon as their last one is answered, so
/// the batches spread over the servers as fast as each takes them.
/// </summary>
internal static class ObservationFeeder
{
    public static async Task<int> RunAsync(FeedObservationsOptions o)
    {
        byte[] all = await File.ReadAllBytesAsync(o.File);
        var starts = new List<int>();
        for (int start = 0; start < all.Length;)
        {
            starts.Add(start);
            int end = Array.IndexOf(all, (byte)'\n', start);
            start = end < 0 ? all.Length : end + 1;
        }

        // A batch is a run of whole lines, so its body is a slice of the file: a large feed is held once, not twice.
        var bodies = Enumerable.Range(0, (starts.Count + o.Batch - 1) / o.Batch).Select(b =>
        {
            int first = b * o.Batch, last = Math.Min(first + o.Batch, starts.Count);
            int to = last < starts.Count ? starts[last] : all.Length;
            return (Body: all.AsMemory(starts[first], to - starts[first]), Lines: last - first);
        }).ToArray();

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 32, UseProxy = false, AllowAutoRedirect = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromMinutes(5) };
        var batches = new FeedBatch[bodies.Length];
        string pace = o.InFlight > 0 ? $"{o.InFlight} in flight per server" : $"one every {o.IntervalMs} ms";
        Console.Error.WriteLine($"feed-observations: {starts.Count:N0} lines in {bodies.Length} batches of {o.Batch}, {pace} -> {string.Join(", ", o.Urls)}, affinity {ProcStats.AffinityList(Environment.ProcessId) ?? "n/a"}");
        if (o.InFlight > 0)
        {
            int next = -1;
            await Task.WhenAll(o.Urls.SelectMany(url => Enumerable.Range(0, o.InFlight).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < bodies.Length)
                {
                    batches[i] = await PostAsync(client, url, o.ApiKey, i, bodies[i].Body, bodies[i].Lines, 0);
                }
            }))));
            return Report(o, batches);
        }

        var sends = new List<Task>(bodies.Length);
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < bodies.Length; i++)
        {
            long due = t0 + (i * o.IntervalMs * Stopwatch.Frequency / 1000);
            long now = Stopwatch.GetTimestamp();
            if (due > now)
            {
                await Task.Delay(Stopwatch.GetElapsedTime(now, due));
            }

            int index = i;
            long lateTicks = Stopwatch.GetElapsedTime(due).Ticks;
            // Several servers: the batches go to them in turn.
            Uri url = o.Urls[index % o.Urls.Count];
            sends.Add(Task.Run(async () => batches[index] = await PostAsync(client, url, o.ApiKey, index, bodies[index].Body, bodies[index].Lines, lateTicks)));
        }

        await Task.WhenAll(sends);
        return Report(o, batches);
    }

    private static int Report(FeedObservationsOptions o, FeedBatch[] batches)
    {
        var result = new FeedResult { Batch = o.Batch, IntervalMs = o.IntervalMs, Batches = [.. batches] };
        Console.Out.WriteLine("RESULT " + JsonSerializer.Serialize(result, DeliveryJsonContext.Default.FeedResult).ReplaceLineEndings(" "));
        return batches.Any(b => b.Error is not null) ? 1 : 0;
    }

    private static async Task<FeedBatch> PostAsync(HttpClient client, Uri url, string apiKey, int index, ReadOnlyMemory<byte> body, int lines, long lateTicks)
    {
        long sent = DateTime.UtcNow.Ticks;
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ReadOnlyMemoryContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/x-ndjson");
        request.Headers.TryAddWithoutValidation("api_key", apiKey);
        try
        {
            using var response = await client.SendAsync(request);
            string text = await response.Content.ReadAsStringAsync();
            long acked = DateTime.UtcNow.Ticks;
            if (!response.IsSuccessStatusCode)
            {
                return new FeedBatch(index, lines, sent, acked, lateTicks, (int)response.StatusCode, 0, $"HTTP {(int)response.StatusCode}: {BenchEnv.Shorten(text, 300)}");
            }

            using var json = JsonDocument.Parse(text);
            return new FeedBatch(index, lines, sent, acked, lateTicks, (int)response.StatusCode, json.RootElement.GetProperty("events").GetInt64(), null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or JsonException or KeyNotFoundException)
        {
            return new FeedBatch(index, lines, sent, DateTime.UtcNow.Ticks, lateTicks, 0, 0, $"{e.GetType().Name}: {e.Message}");
        }
    }
}

internal sealed record PostBodiesOptions
{
    public required Uri Url { get; init; }
    public required Uri WarmupUrl { get; init; }
    public required string BodiesFile { get; init; }
    public int Count { get; init; } = 40_000;
    public int Concurrency { get; init; } = 64;
    public int WarmupSeconds { get; init; } = 5;
}

internal sealed record FeedObservationsOptions
{
    /// <summary>The servers' observation endpoints (<c>--url</c> repeated).</summary>
    public required IReadOnlyList<Uri> Urls { get; init; }
    public required string ApiKey { get; init; }
    public required string File { get; init; }
    public int Batch { get; init; } = 100;
    public int IntervalMs { get; init; } = 100;
    /// <summary>Closed loop with this many batches in flight per URL; 0: paced by <see cref="IntervalMs"/>.</summary>
    public int InFlight { get; init; }
}

internal sealed record PostBodiesResult
{
    public long Count { get; init; }
    public int Concurrency { get; init; }
    public int DistinctRequests { get; init; }
    public double AverageBodyBytes { get; init; }
    public double Seconds { get; init; }
    public double RequestsPerSecond { get; init; }
    public long Errors { get; init; }
    public long WarmupRequests { get; init; }
    public long WarmupErrors { get; init; }
    public List<string> ErrorSamples { get; init; } = [];
    public double CpuSeconds { get; init; }
    public string? AffinityList { get; init; }
}

/// <summary>One feed batch: when it was sent and acknowledged (UTC ticks), how late its send was against the schedule.</summary>
internal sealed record FeedBatch(int Index, int Lines, long SentTicks, long AckTicks, long LateTicks, int Status, long Events, string? Error);

internal sealed record FeedResult
{
    public int Batch { get; init; }
    public int IntervalMs { get; init; }
    public List<FeedBatch> Batches { get; init; } = [];
}
