using System.Globalization;
using System.Text.Json;

namespace ProspectEvents.Bench;

/// <summary>Runs the load generator as a child process, placed by <see cref="Pinning"/>, and reads the result it prints.</summary>
internal static class LoadGeneratorChild
{
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
