using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace ProspectEvents.Bench;

/// <summary>Helpers shared by the benchmarks: repository, machine and source description, server build, short commands.</summary>
internal static class BenchEnv
{
    public static string FindRepoRoot()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "ProspectEvents.slnx")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new CliException("cannot find the repository root (ProspectEvents.slnx) from the current directory");
    }

    /// <summary>The dotnet host that runs this process (or the SDK's), to start the children with.</summary>
    public static string FindDotnet()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }

        if (Environment.ProcessPath is { } p && string.Equals(Path.GetFileNameWithoutExtension(p), "dotnet", StringComparison.Ordinal))
        {
            return p;
        }

        return Pinning.Which("dotnet") ?? "dotnet";
    }
    public static async Task<string> DescribeMachineAsync(string dotnet, string? workingDirectory = null)
    {
        string cpu = "unknown CPU";
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null)
            {
                cpu = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
            }
        }
        catch (IOException)
        {
            // Not Linux.
        }

        // The working directory matters: `dotnet --version` resolves the SDK through the nearest global.json.
        var sdk = await ProcessRunner.RunAsync(dotnet, ["--version"], TimeSpan.FromSeconds(30), workingDirectory);
        return $"nproc {Environment.ProcessorCount}, {cpu}, dotnet SDK {sdk.Stdout.Trim()}, {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}";
    }

    /// <summary>The commit the server was built from, and whether src/ had uncommitted changes.</summary>
    public static async Task<string> DescribeSourceAsync(string repo)
    {
        string? git = Pinning.Which("git");
        if (git is null)
        {
            return "git not found";
        }

        var head = await ProcessRunner.RunAsync(git, ["-C", repo, "log", "-1", "--format=%h %s"], TimeSpan.FromSeconds(30));
        var dirty = await ProcessRunner.RunAsync(git, ["-C", repo, "status", "--porcelain", "--", "src"], TimeSpan.FromSeconds(30));
        string[] changed = dirty.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string state = changed.Length == 0 ? "src clean" : $"src has uncommitted changes: {string.Join(", ", changed)}";
        return $"{(head.Stdout.Trim().Length == 0 ? "no commit" : head.Stdout.Trim())} ({state})";
    }

    /// <summary>The server build both benchmarks use: a private artifacts folder under bench/results/server-build.</summary>
    public static async Task<string?> BuildServerAsync(string dotnet, string repo, bool rebuild, string logDir)
    {
        string artifacts = Path.Combine(repo, "bench", "results", "server-build");
        string dll = Path.Combine(artifacts, "bin", "ProspectEvents.Server", "release", "ProspectEvents.Server.dll");
        if (!rebuild)
        {
            return File.Exists(dll) ? dll : null;
        }

        // A private artifacts path keeps this Release build (bin/ and obj/) away from the other
        // projects' own bin/obj folders, so it cannot collide with a concurrent developer build.
        string project = Path.Combine(repo, "src", "ProspectEvents.Server", "ProspectEvents.Server.csproj");
        Console.WriteLine($"build   : dotnet build {Path.GetRelativePath(repo, project)} -c Release --artifacts-path {Path.GetRelativePath(repo, artifacts)}");
        var sw = Stopwatch.StartNew();
        var build = await ProcessRunner.RunAsync(
            dotnet,
            ["build", project, "-c", "Release", "--artifacts-path", artifacts, "--disable-build-servers", "-nologo", "-clp:ErrorsOnly;NoSummary"],
            TimeSpan.FromMinutes(10),
            repo);
        await File.WriteAllTextAsync(Path.Combine(logDir, "server-build.log"), build.Stdout + build.Stderr);
        if (!build.Ok)
        {
            Console.Error.WriteLine($"error: server build failed ({(build.TimedOut ? "timeout" : build.ExitCode.ToString(CultureInfo.InvariantCulture))}):{Environment.NewLine}{Tail(build.Stdout + build.Stderr, 40)}");
            return null;
        }

        Console.WriteLine($"build   : ok in {sw.Elapsed.TotalSeconds:F0}s");
        return dll;
    }

    public static string Tail(string text, int lines)
    {
        string[] all = text.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    public static string Shorten(string s, int max) => s.Length <= max ? s : s[..max] + "...";

    /// <summary>
    /// Ends a run: its scratch directory is removed when it succeeded and was not to be kept, and named otherwise
    /// (its logs explain a failure); prints the total time. Returns <paramref name="code"/>.
    /// </summary>
    public static int FinishRun(int code, bool keep, string runDir, System.Diagnostics.Stopwatch total)
    {
        if (code == 0 && !keep)
        {
            TryDelete(runDir);
        }
        else
        {
            Console.WriteLine($"logs    : kept in {runDir}");
        }

        Console.WriteLine($"total   : {total.Elapsed.TotalMinutes:F1} min");
        return code;
    }

    public static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
        catch (IOException)
        {
            // Best effort.
        }
        catch (UnauthorizedAccessException)
        {
            // Best effort.
        }
    }

    public static string Join(IEnumerable<string> parts)
    {
        var sb = new StringBuilder();
        foreach (string p in parts)
        {
            if (sb.Length > 0)
            {
                sb.Append(' ');
            }

            sb.Append(p.Contains(' ', StringComparison.Ordinal) || p.Contains(';', StringComparison.Ordinal) ? $"\"{p}\"" : p);
        }

        return sb.ToString();
    }
}
