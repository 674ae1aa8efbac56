using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using ProspectEvents.Storage;

namespace ProspectEvents.Tests.Infrastructure;

/// <summary>
/// The built server executable as a process of its own (<c>ProspectEvents.Server.dll serve</c> on a free loopback
/// port), configured by environment variables. It learns its address from the start-up log, waits for
/// <c>/readyz</c>, keeps everything the process prints, and can be SIGKILLed or stopped with SIGTERM. For what only
/// real processes show: several servers on one database, a crash mid-delivery, process-wide settings.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _printed = NewSignal();

    private ServerProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    /// <summary>What the test calls it, in messages (<c>server 1</c>, ...).</summary>
    public string Name { get; }

    public int Id => _process.Id;

    public Uri Address { get; private set; } = null!;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote to stdout and stderr so far, interleaved as it came.</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    /// <summary>The admin key printed by a first start on an empty database, if this process printed one.</summary>
    public string? PrintedAdminKey => ServerUnderTest.KeyPattern().Match(Output) is { Success: true } match ? match.Value : null;

    /// <summary>
    /// Starts the server on <paramref name="storage"/> with <paramref name="settings"/> (configuration keys such as
    /// <c>Webhooks:Timeout</c>, passed as <c>Webhooks__Timeout</c> variables) and, unless <paramref name="waitUntilReady"/>
    /// is false, returns once it listens and <c>/readyz</c> answers 200.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(StorageOptions storage, IReadOnlyDictionary<string, string?>? settings = null,
        string name = "server", bool waitUntilReady = true)
    {
        var environment = new Dictionary<string, string?>
        {
            ["Storage__Provider"] = storage.Provider,
            ["Storage__ConnectionString"] = storage.ConnectionString,
            // Other processes' settings must not leak in from the test run's own environment.
            ["ASPNETCORE_URLS"] = null,
            ["DOTNET_ENVIRONMENT"] = null,
            ["ASPNETCORE_ENVIRONMENT"] = null,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        var start = ProcessRunner.CreateStartInfo("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "ProspectEvents.Server.dll"), "serve", "--urls", "http://127.0.0.1:0"],
            AppContext.BaseDirectory, environment, redirectStandardInput: false);
        var server = new ServerProcess(Process.Start(start)!, name);
        // Drained as it comes, so the child never blocks on a full pipe.
        server._process.OutputDataReceived += (_, e) => server.Print(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Print(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        if (waitUntilReady) await server.WaitUntilReadyAsync();
        return server;
    }

    /// <summary>Starts several servers at once on one database, all with the same settings; returns when every one is ready.</summary>
    public static async Task<ServerProcess[]> StartManyAsync(int count, StorageOptions storage, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var servers = Enumerable.Range(1, count).Select(n => StartAsync(storage, settings, $"server {n}", waitUntilReady: false)).ToArray();
        var started = await Task.WhenAll(servers);
        try
        {
            await Task.WhenAll(started.Select(s => s.WaitUntilReadyAsync()));
        }
        catch
        {
            foreach (var server in started) await server.DisposeAsync();
            throw;
        }
        return started;
    }

    /// <summary>
    /// Waits for the address in the start-up log, then for <c>/readyz</c> to answer <paramref name="status"/> (200 unless
    /// told: an outdated process answers 503); fails with the output if it never does.
    /// </summary>
    public async Task WaitUntilReadyAsync(System.Net.HttpStatusCode status = System.Net.HttpStatusCode.OK)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        try
        {
            Address = await _listening.Task.WaitAsync(StartTimeout);
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"{Name} did not say where it listens within {StartTimeout.TotalSeconds} s. It printed:\n{Output}");
        }

        using var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(10) };
        while (true)
        {
            try
            {
                using var ready = await http.GetAsync("/readyz");
                if (ready.StatusCode == status) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not answering yet.
            }
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"{Name} was not ready at {Address}readyz (exited: {_process.HasExited}). It printed:\n{Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until a line the process printed satisfies <paramref name="match"/>; returns that line.</summary>
    public async Task<string> WaitForOutputAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            Task printed;
            string[] lines;
            lock (_output)
            {
                printed = _printed.Task;
                lines = _output.ToString().Split('\n');
            }
            if (lines.FirstOrDefault(match) is { } line) return line;
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"{Name} printed no such line within {timeout.TotalSeconds} s. It printed:\n{Output}");
            await Task.WhenAny(printed, Task.Delay(left));
        }
    }

    /// <summary>An HTTP client for this server sending <paramref name="apiKey"/> in the <c>api_key</c> header (none when null).</summary>
    public HttpClient Client(string? apiKey)
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null) client.DefaultRequestHeaders.Add("api_key", apiKey);
        return client;
    }

    /// <summary>SIGKILL: the process ends at once, with no chance to finish or record anything.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as an orchestrator stops a process: the host shuts down cleanly; killed if it takes longer than <paramref name="grace"/>.</summary>
    public async Task<int> StopAsync(TimeSpan? grace = null)
    {
        if (!_process.HasExited)
        {
            var signalled = await ProcessRunner.RunAsync("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
            if (!signalled.Ok && !_process.HasExited) throw new InvalidOperationException(signalled.Describe($"Could not signal {Name}"));
        }
        using var wait = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
            // Gone already.
        }
        _process.Dispose();
    }

    private void Print(string? line)
    {
        if (line is null) return;
        TaskCompletionSource printed;
        lock (_output)
        {
            _output.AppendLine(line);
            printed = _printed;
            _printed = NewSignal();
        }
        if (ListeningPattern().Match(line) is { Success: true } listening) _listening.TrySetResult(new Uri(listening.Groups[1].Value.TrimEnd('/') + "/"));
        printed.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningPattern();
}
