using System.Collections.Concurrent;
using System.Diagnostics;

namespace ProspectEvents.Bench;

/// <summary>
/// A child process started by the harness. Output goes to a log file (and a small in-memory tail for
/// error messages); optionally stdout lines are handed to a callback. Children are tracked so that
/// Ctrl+C / exit kills exactly the processes this harness started, by pid.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private static readonly ConcurrentDictionary<int, ChildProcess> Live = new();
    private readonly ConcurrentQueue<string> _tail = new();
    private readonly StreamWriter _log;
    private readonly Lock _logLock = new();

    static ChildProcess()
    {
        Console.CancelKeyPress += (_, _) => KillAll();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
    }

    private ChildProcess(Process process, string logPath, string display)
    {
        Process = process;
        LogPath = logPath;
        Display = display;
        _log = new StreamWriter(logPath, append: false) { AutoFlush = true };
    }

    public Process Process { get; }

    public int Pid => Process.Id;

    public string LogPath { get; }

    public string Display { get; }

    public bool HasExited => Process.HasExited;

    public static ChildProcess Start(
        string fileName,
        IEnumerable<string> arguments,
        string logPath,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        Action<string>? onStdoutLine = null,
        Action<string>? onStderrLine = null)
    {
        var psi = ProcessRunner.CreateStartInfo(fileName, arguments, workingDirectory, environment, redirectStandardInput: false);

        string display = fileName + " " + string.Join(' ', psi.ArgumentList.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var child = new ChildProcess(process, logPath, display);
        child.WriteLog($"$ {display}");
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            child.WriteLog(e.Data);
            onStdoutLine?.Invoke(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            child.WriteLog(e.Data);
            onStderrLine?.Invoke(e.Data);
        };

        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {display}");
        }

        Live[process.Id] = child;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for exit with a bound; kills the child if the bound is exceeded.</summary>
    public async Task<int?> WaitAsync(TimeSpan bound)
    {
        using var cts = new CancellationTokenSource(bound);
        try
        {
            await Process.WaitForExitAsync(cts.Token);
            Process.WaitForExit(); // flush async output handlers
            return Process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            Kill();
            return null;
        }
    }

    public string Tail(int lines = 30)
    {
        string[] all = [.. _tail];
        return string.Join(Environment.NewLine, all.Skip(Math.Max(0, all.Length - lines)));
    }

    public void Kill()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        Live.TryRemove(Process.Id, out _);
    }

    public void Dispose()
    {
        Kill();
        lock (_logLock)
        {
            _log.Dispose();
        }

        Process.Dispose();
    }

    private static void KillAll()
    {
        foreach (var child in Live.Values)
        {
            child.Kill();
        }
    }

    private void WriteLog(string line)
    {
        _tail.Enqueue(line);
        while (_tail.Count > 200 && _tail.TryDequeue(out _))
        {
        }

        lock (_logLock)
        {
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // Late output after dispose.
            }
        }
    }
}
