using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace ProspectEvents.Bench;

/// <summary>
/// The frame every benchmark verb runs in: the repository, SDK and results directory, a scratch directory, the
/// machine and pinning it reports, the server build, the verdict lines, the result file and the end of the run.
/// A benchmark file then holds only what it measures.
/// </summary>
/// <param name="Verb">The verb as typed, which names the result file and the scratch directory.</param>
/// <param name="ResultsDir">Where the JSON result file goes.</param>
/// <param name="RunDir">Scratch directory for databases and logs; removed at the end of a clean run unless kept.</param>
internal sealed record BenchRun(string Verb, string Repo, string Dotnet, string ResultsDir, string RunDir, string Machine, Pinning Pin)
{
    private readonly Stopwatch _total = Stopwatch.StartNew();

    /// <summary>This executable, started again for the hidden child verbs.</summary>
    public string BenchDll { get; } = typeof(BenchRun).Assembly.Location;

    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;

    /// <summary>Problems that do not stop the run but qualify its figures; printed and saved with the result.</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>The command line as docs/benchmarks.md gives it, saved in the result file.</summary>
    public string Command => $"dotnet run -c Release --project bench/ProspectEvents.Bench -- {Verb} " + string.Join(' ', Environment.GetCommandLineArgs().Skip(2));

    public double TotalSeconds => Math.Round(_total.Elapsed.TotalSeconds, 1);

    public static async Task<BenchRun> StartAsync(string verb, string? resultsDir, bool noPin)
    {
        string repo = BenchEnv.FindRepoRoot();
        string dotnet = BenchEnv.FindDotnet();
        string results = Path.GetFullPath(resultsDir ?? Path.Combine(repo, "bench", "results"));
        Directory.CreateDirectory(results);
        string runDir = Directory.CreateTempSubdirectory($"prospectevents-{verb}-bench-").FullName;
        return new BenchRun(verb, repo, dotnet, results, runDir, await BenchEnv.DescribeMachineAsync(dotnet, repo), Pinning.Decide(noPin));
    }

    /// <summary>Prints what the run is on: machine, pinning, the benchmark's own lines (already labelled), scratch directory.</summary>
    public void PrintHeader(string pinning, params string[] lines)
    {
        Console.WriteLine($"machine : {Machine}");
        Console.WriteLine($"pinning : {pinning}");
        foreach (string line in lines)
        {
            Console.WriteLine(line);
        }

        Console.WriteLine($"scratch : {RunDir}");
    }

    /// <summary>
    /// The server under test, built unpinned (the build gets both cores) unless a dll was given, with the commit it
    /// was built from; null, with the reason on stderr, when there is none.
    /// </summary>
    public async Task<(string Dll, string Source)?> ServerAsync(string? serverDll, bool noBuild, string? hint = null)
    {
        string? dll = serverDll is not null ? Path.GetFullPath(serverDll) : await BenchEnv.BuildServerAsync(Dotnet, Repo, rebuild: !noBuild, RunDir);
        if (dll is null || !File.Exists(dll))
        {
            Cli.Fail($"server not available (dll: {dll ?? "build failed"}){hint}");
            return null;
        }

        string source = await BenchEnv.DescribeSourceAsync(Repo);
        Console.WriteLine($"server  : {dll}");
        Console.WriteLine($"source  : {source}");
        if (source.Contains("uncommitted", StringComparison.Ordinal))
        {
            Warnings.Add("src/ had uncommitted changes when the server was built: " + source);
        }

        return (dll, source);
    }

    /// <summary>Prints the PASS/FAIL lines and the warnings, and a banner when the run is not valid.</summary>
    public void PrintVerdict(string heading, IEnumerable<TargetCheck> targets, bool valid, string invalid, IEnumerable<string>? why = null)
    {
        Console.WriteLine();
        Console.WriteLine(heading);
        foreach (var t in targets)
        {
            Console.WriteLine($"  [{(t.Pass is null ? "n/a " : t.Pass.Value ? "PASS" : "FAIL")}] {t.Name} {t.Target}: {t.Measured}");
        }

        if (Warnings.Count > 0)
        {
            Console.WriteLine();
            foreach (string w in Warnings)
            {
                Console.WriteLine($"WARNING: {w}");
            }
        }

        if (!valid)
        {
            Console.WriteLine();
            Console.WriteLine(new string('!', 78));
            Console.WriteLine($"!!! {invalid}");
            foreach (string line in why ?? [])
            {
                Console.WriteLine($"!!! {line}");
            }

            Console.WriteLine(new string('!', 78));
        }
    }

    /// <summary>The report with this run's header filled in: its start, command and machine, and the server's source and the pinning.</summary>
    public T Stamped<T>(T report, string? source, string pinning)
        where T : RunReport =>
        (T)((RunReport)report with { StartedUtc = Started, Command = Command, Machine = Machine, Source = source, Pinning = pinning });

    /// <summary>Writes <c>bench/results/{name}-{timestamp}.json</c> and says where.</summary>
    public async Task WriteResultAsync<T>(string name, T report, JsonTypeInfo<T> json)
    {
        string stamp = Started.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string resultFile = Path.Combine(ResultsDir, $"{name}-{stamp}.json");
        await File.WriteAllTextAsync(resultFile, JsonSerializer.Serialize(report, json));
        Console.WriteLine($"results : {resultFile}");
    }

    /// <summary>Ends the run: see <see cref="BenchEnv.FinishRun"/>. Returns <paramref name="code"/>.</summary>
    public int Finish(int code, bool keep) => BenchEnv.FinishRun(code, keep, RunDir, _total);
}
