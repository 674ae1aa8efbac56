using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ProspectEvents.Bench;

/// <summary>
/// `fetch --memory` (SQLite): the server's resident memory with a million tracked prospects beside the generated
/// events. Before serving, a copy of the events database gets the ingest feed's first snapshot through the `ingest`
/// verb (1M prospects, first sight); while the narrow-window fetch load runs, the second snapshot is POSTed to
/// <c>/v1/admin/observations</c>. The server's VmRSS, RssAnon and RssFile are sampled every 200 ms, and the load
/// window is followed by an idle tail; the server gives its prospect cache back 30 s after the ingest
/// (<c>Ingest:CacheIdleTimeout</c>), so the report shows the memory with and without it.
/// </summary>
internal static class FetchMemory
{
    private static readonly TimeSpan SampleEvery = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan IdleTail = TimeSpan.FromSeconds(20);
    private const double TargetMiB = 400;
    private const string CacheIdleTimeout = "00:00:30";

    /// <summary>The ingest benchmark's feed (generated into bench/results/feeds/ when missing): snapshot 1 and 2.</summary>
    public static (string First, string Second) Feed(string resultsDir)
    {
        var o = new IngestOptions();
        string dir = FeedGenerator.DefaultDirectory(resultsDir, o.Prospects, o.Snapshots, o.Seed, o.Gzip);
        var feed = FeedGenerator.TryLoad(dir) ?? FeedGenerator.Generate(dir, o.Prospects, o.Snapshots, o.Seed, o.Gzip, l => Console.WriteLine("          " + l));
        return (Path.Combine(dir, feed.Files[0].File), Path.Combine(dir, feed.Files[1].File));
    }

    /// <summary>A copy of <paramref name="db"/> in the scratch directory with the first snapshot ingested by the `ingest` verb.</summary>
    public static async Task<string?> TrackProspectsAsync(string dotnet, string serverDll, Dictionary<string, string?> env, string db, string snapshot, string workDir, string runDir)
    {
        string copy = Path.Combine(runDir, "sqlite-tracked.db");
        var sw = Stopwatch.StartNew();
        File.Copy(db, copy);
        Console.WriteLine($"tracked : copied {db} in {sw.Elapsed.TotalSeconds:F0}s");
        env["Storage__ConnectionString"] = $"Data Source={copy}";
        // Shorter than the server's default, so the window shows the cache given back after the HTTP ingest.
        env["Ingest__CacheIdleTimeout"] = CacheIdleTimeout;
        sw.Restart();
        var stdout = new StringBuilder();
        using var ingest = ChildProcess.Start(dotnet, [serverDll, "ingest", snapshot], Path.Combine(runDir, "ingest-first-sight.log"), workDir, env, onStdoutLine: l => stdout.AppendLine(l));
        if (await ingest.WaitAsync(TimeSpan.FromMinutes(30)) != 0)
        {
            Console.Error.WriteLine($"error: `ingest {snapshot}` failed:{Environment.NewLine}{ingest.Tail()}");
            return null;
        }

        Console.WriteLine($"tracked : `ingest {Path.GetFileName(snapshot)}` in {sw.Elapsed.TotalSeconds:F0}s: {BenchEnv.Shorten(stdout.ToString().Trim(), 300)}");
        return copy;
    }

    /// <summary>
    /// Samples the server until <paramref name="loadDone"/> is set and <see cref="IdleTail"/> after it; POSTs
    /// <paramref name="snapshot"/> once <paramref name="delay"/> has passed (the load's warm-up).
    /// </summary>
    public static async Task<MemoryRun> WatchAsync(int pid, Uri baseUrl, string adminKey, string snapshot, TimeSpan delay, Task loadDone)
    {
        var samples = new List<MemorySample>();
        var clock = Stopwatch.StartNew();
        string phase = "fetch only";
        var ingest = Task.Run(async () =>
        {
            await Task.Delay(delay);
            phase = "fetch + HTTP ingest";
            var result = await PostSnapshotAsync(baseUrl, adminKey, snapshot);
            phase = "fetch, after ingest";
            return result;
        });
        DateTime? idleUntil = null;
        while (idleUntil is null || DateTime.UtcNow < idleUntil)
        {
            if (idleUntil is null && loadDone.IsCompleted && ingest.IsCompleted)
            {
                idleUntil = DateTime.UtcNow + IdleTail;
                phase = "idle, after load";
            }

            if (Read(pid) is { } m)
            {
                samples.Add(m with { Seconds = clock.Elapsed.TotalSeconds, Phase = phase });
            }

            await Task.Delay(SampleEvery);
        }

        return new MemoryRun { Samples = samples, Ingest = await ingest };
    }

    private static async Task<IngestOverHttp> PostSnapshotAsync(Uri baseUrl, string adminKey, string snapshot)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
        await using var file = File.OpenRead(snapshot);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "/v1/admin/observations")) { Content = new StreamContent(file, 1 << 20) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        request.Headers.Add("api_key", adminKey);
        var sw = Stopwatch.StartNew();
        using var response = await client.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        double seconds = sw.Elapsed.TotalSeconds;
        long observations = 0, events = 0;
        if (response.IsSuccessStatusCode)
        {
            using var json = JsonDocument.Parse(text);
            observations = json.RootElement.GetProperty("observations").GetInt64();
            events = json.RootElement.GetProperty("events").GetInt64();
        }

        Console.WriteLine($"ingest  : POST /v1/admin/observations {Path.GetFileName(snapshot)} -> {(int)response.StatusCode} in {seconds:F1}s: {BenchEnv.Shorten(text, 300)}");
        return new IngestOverHttp { Status = (int)response.StatusCode, Seconds = seconds, Observations = observations, Events = events };
    }

    private static MemorySample? Read(int pid) =>
        ProcStats.StatusKb(pid, "VmRSS:") is { } vm && ProcStats.StatusKb(pid, "RssAnon:") is { } anon && ProcStats.StatusKb(pid, "RssFile:") is { } file
            ? new MemorySample { VmRssKb = vm, AnonKb = anon, FileKb = file }
            : null; // the server is gone

    public static void Print(MemoryRun run)
    {
        Console.WriteLine();
        Console.WriteLine("== serve's memory: 1M tracked prospects, fetch load, one snapshot over HTTP (peaks per phase, MiB) ==");
        Console.WriteLine();
        Console.WriteLine("| phase | seconds | VmRSS | RssAnon (private) | RssFile (mapped files) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var group in run.Samples.GroupBy(s => s.Phase))
        {
            Console.WriteLine($"| {group.Key} | {group.Last().Seconds - group.First().Seconds:F0} | {group.Max(s => s.VmRssKb) / 1024.0:F0} | {group.Max(s => s.AnonKb) / 1024.0:F0} | {group.Max(s => s.FileKb) / 1024.0:F0} |");
        }

        var last = run.Samples.LastOrDefault();
        if (last is not null)
        {
            Console.WriteLine($"| at the end (idle) | – | {last.VmRssKb / 1024.0:F0} | {last.AnonKb / 1024.0:F0} | {last.FileKb / 1024.0:F0} |");
        }

        if (run.Ingest is { Seconds: > 0 } i)
        {
            Console.WriteLine();
            Console.WriteLine($"HTTP ingest: {i.Observations:N0} observations in {i.Seconds:F1}s ({i.Observations / i.Seconds:N0} obs/s beside the fetch load), {i.Events:N0} events, status {i.Status}");
        }

        double peakAnon = run.Samples.Count > 0 ? run.Samples.Max(s => s.AnonKb) / 1024.0 : double.NaN;
        Console.WriteLine($"target: private resident memory (RssAnon) <= {TargetMiB:F0} MiB: [{(peakAnon <= TargetMiB ? "PASS" : "FAIL")}] peak {peakAnon:F0} MiB (VmRSS adds the mapped database pages, the OS page cache)");
    }
}

internal sealed record MemorySample
{
    public double Seconds { get; init; }
    public string Phase { get; init; } = "";
    public long VmRssKb { get; init; }
    public long AnonKb { get; init; }
    public long FileKb { get; init; }
}

internal sealed record IngestOverHttp
{
    public int Status { get; init; }
    public double Seconds { get; init; }
    public long Observations { get; init; }
    public long Events { get; init; }
}

internal sealed record MemoryRun
{
    public List<MemorySample> Samples { get; init; } = [];
    public IngestOverHttp? Ingest { get; init; }
}
