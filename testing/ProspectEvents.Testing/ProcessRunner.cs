using System.Diagnostics;
using System.Globalization;

namespace ProspectEvents.Testing;

/// <summary>What a short helper command (initdb, psql, git, sqlite3, ...) did.</summary>
public sealed record ProcessResult(string Command, int ExitCode, string Stdout, string Stderr, bool TimedOut)
{
    public bool Ok => ExitCode == 0 && !TimedOut;

    public string Describe(string what) =>
        $"{what}: `{Command}` exit {(TimedOut ? "timeout" : ExitCode.ToString(CultureInfo.InvariantCulture))}; " +
        $"stderr: {Shorten(Stderr.Trim(), 2000)}; stdout: {Shorten(Stdout.Trim(), 500)}";

    private static string Shorten(string s, int max) => s.Length <= max ? s : s[..max] + "...";
}

/// <summary>Runs helper commands to completion, bounded, with their output captured.</summary>
public static class ProcessRunner
{
    /// <summary>Runs a command to completion; one that cannot start is exit code -1, one that outlives <paramref name="bound"/> is killed.</summary>
    public static async Task<ProcessResult> RunAsync(
        string fileName, IEnumerable<string> arguments, TimeSpan bound, string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var psi = CreateStartInfo(fileName, arguments, workingDirectory, environment, redirectStandardInput: true);
        string command = string.Join(' ', new[] { fileName }.Concat(psi.ArgumentList).Select(p => p.Contains(' ', StringComparison.Ordinal) ? $"'{p}'" : p));
        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new ProcessResult(command, -1, "", $"could not start `{fileName}`: {e.Message}", false);
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(bound);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // Already gone.
                }

                await process.WaitForExitAsync();
                return new ProcessResult(command, -1, await stdout, await stderr, true);
            }

            return new ProcessResult(command, process.ExitCode, await stdout, await stderr, false);
        }
    }

    /// <summary>
    /// Start info for a helper or a long-lived child: stdout/stderr redirected, no shell, arguments passed one by one,
    /// environment overrides applied (a null value removes the variable).
    /// </summary>
    public static ProcessStartInfo CreateStartInfo(
        string fileName,
        IEnumerable<string> arguments,
        string? workingDirectory,
        IReadOnlyDictionary<string, string?>? environment,
        bool redirectStandardInput)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = redirectStandardInput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in environment ?? new Dictionary<string, string?>())
        {
            if (v is null)
            {
                psi.Environment.Remove(k);
            }
            else
            {
                psi.Environment[k] = v;
            }
        }

        return psi;
    }
}
