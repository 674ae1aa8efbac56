using System.Globalization;
using System.Text.Json;

namespace ProspectEvents.Bench;

/// <summary>The load of one measured row: its window, warm-up, connections and prospect ids per request.</summary>
internal sealed record LoadPlan(int Seconds, int WarmupSeconds, int Connections, int Ids);

/// <summary>Runs the load generator as a child process, placed by <see cref="Pinning"/>, and reads the result it prints.</summary>
internal static class LoadGeneratorChild
{
    /// <summary>
    /// Measures one row: the generator loads <paramref name="server"/> at <paramref name="url"/> with requests of
    /// <paramref name="kind"/>; prints the per-second counts and the result. Null when the generator gave no result.
    /// </summary>
    public static async Task<RunRow?> MeasureAsync(
        string name, LoadPlan plan, Pinning pin, string dotnet, string benchDll, ChildProcess server, Uri url, string kind, string? apiKey, string runDir,
        params string[] extraArgs)
    {
        List<string> args =
        [
            .. pin.LoadGenPrefix, benchDll, "loadgen",
            "--url", url.ToString(), "--kind", kind,
            "--seconds", plan.Seconds.ToString(CultureInfo.InvariantCulture),
            "--warmup", plan.WarmupSeconds.ToString(CultureInfo.InvariantCulture),
            "--connections", plan.Connections.ToString(CultureInfo.InvariantCulture),
            "--ids", plan.Ids.ToString(CultureInfo.InvariantCulture),
            "--server-pid", server.Pid.ToString(CultureInfo.InvariantCulture),
            .. extraArgs,
        ];
        if (apiKey is not null)
        {
            args.AddRange(["--api-key", apiKey]);
        }

        var load = await RunAsync(pin, dotnet, args, Path.Combine(runDir, $"loadgen-{name}.log"), TimeSpan.FromSeconds(plan.WarmupSeconds + plan.Seconds + 120));
        if (load is null) return null;
        if (server.HasExited)
        {
            Console.Error.WriteLine($"WARNING: server under test exited during the run (code {server.Process.ExitCode}):{Environment.NewLine}{server.Tail()}");
        }

        if (load.PerSecondRequests.Length > 0)
        {
            Console.WriteLine($"per-sec : {string.Join(' ', load.PerSecondRequests)}");
        }

        Console.WriteLine($"result  : {load.RequestsPerSecond:F0} req/s, p50 {load.Latency.P50Ms:F2} ms, p99 {load.Latency.P99Ms:F2} ms, errors {load.Errors} (+{load.WarmupErrors} in warm-up)");
        return new RunRow { Name = name, Load = load, ServerAffinity = ProcStats.AffinityList(server.Pid), ServerPeakRssKb = ProcStats.PeakRssKb(server.Pid) };
    }

    public static async Task<LoadResult?> RunAsync(Pinning pin, string dotnet, List<string> args, string logPath, TimeSpan timeout)
    {
        string? resultJson = null;
        using var gen = ChildProcess.Start(
            pin.LoadGenLauncher(dotnet),
            args,
            logPath,
            environment: new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                // The generator has one core: workstation GC avoids server-GC overhead there.
                ["DOTNET_gcServer"] = "0",
                ["DOTNET_TC_DelaySingleProcMultiplier"] = "1",
            },
            onStdoutLine: l =>
            {
                if (l.StartsWith("RESULT ", StringComparison.Ordinal)) resultJson = l["RESULT ".Length..];
            },
            onStderrLine: l => Console.WriteLine($"          {l}"));

        int? code = await gen.WaitAsync(timeout);
        if (resultJson is null)
        {
            Console.Error.WriteLine($"error: load generator exited with {code?.ToString(CultureInfo.InvariantCulture) ?? "timeout (killed)"} and no result:{Environment.NewLine}{gen.Tail()}");
            return null;
        }
        return JsonSerializer.Deserialize(resultJson, ReportJsonContext.Default.LoadResult)!;
    }
}
