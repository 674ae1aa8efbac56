using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace ProspectEvents.Bench;

/// <summary>
/// The server under test (or a baseline server) as a child process of a benchmark: its environment, its start on a
/// free port with the run's pinning, the wait until it is ready, a smoke request, and the partner its load uses.
/// </summary>
internal static class ServerChild
{
    private const string TieringMultiplier = "1";

    /// <summary>
    /// Starts a server under test (pinned like the rest of the run) on a free 127.0.0.1 port and waits for
    /// GET /readyz; null (and the child stopped) if it never becomes ready.
    /// </summary>
    public static async Task<(ChildProcess Server, Uri BaseUrl)?> StartAsync(
        Pinning pin, string dotnet, string[] dllAndVerb, string logPath, string workDir, Dictionary<string, string?> env)
    {
        int port = Loopback.FreePort();
        var baseUrl = new Uri($"http://127.0.0.1:{port}");
        var server = ChildProcess.Start(
            pin.ServerLauncher(dotnet, out var prefix),
            [.. prefix, .. dllAndVerb, "--urls", baseUrl.ToString().TrimEnd('/')],
            logPath,
            workDir,
            env);
        Console.WriteLine($"started : pid {server.Pid}: {server.Display}");

        if (!await WaitReadyAsync(server, new Uri(baseUrl, "/readyz")))
        {
            server.Dispose();
            return null;
        }

        Console.WriteLine($"affinity: server pid {server.Pid} Cpus_allowed_list = {ProcStats.AffinityList(server.Pid) ?? "n/a"}");
        return (server, baseUrl);
    }

    /// <summary>The environment of a server under test: production settings, warnings only, no inherited URLs, plus <paramref name="extra"/>.</summary>
    public static Dictionary<string, string?> Environment(Dictionary<string, string?>? extra)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Logging__LogLevel__Default"] = "Warning",
            // Pinned to one core, the runtime sees ProcessorCount = 1 and multiplies its tiered-JIT delay by 10,
            // so hot code takes ~30 s of full load instead of ~5 s to reach optimized (tier-1 + PGO) code. A real
            // deployment has more than one core; restore the normal delay. Steady-state code is the same.
            ["DOTNET_TC_DelaySingleProcMultiplier"] = TieringMultiplier,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_ENVIRONMENT"] = "Production",
            // Never let an inherited URL setting move the server off 127.0.0.1.
            ["ASPNETCORE_URLS"] = null,
            ["DOTNET_URLS"] = null,
            ["URLS"] = null,
            ["ASPNETCORE_HTTP_PORTS"] = null,
            ["ASPNETCORE_HTTPS_PORTS"] = null,
        };
        if (extra is not null)
        {
            foreach (var (k, v) in extra)
            {
                env[k] = v;
            }
        }

        return env;
    }

    /// <summary>Polls <paramref name="readyz"/> for a minute; false, with the child's log tail on stderr, when it never answers 200.</summary>
    public static async Task<bool> WaitReadyAsync(ChildProcess server, Uri readyz)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        var sw = Stopwatch.StartNew();
        string last = "no answer";
        while (sw.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (server.HasExited)
            {
                Console.Error.WriteLine($"error: server exited with {server.Process.ExitCode} before becoming ready:{System.Environment.NewLine}{server.Tail()}");
                return false;
            }

            try
            {
                using var resp = await client.GetAsync(readyz);
                if (resp.StatusCode == HttpStatusCode.OK)
                {
                    Console.WriteLine($"ready   : GET {readyz.AbsolutePath} -> 200 after {sw.Elapsed.TotalSeconds:F1}s");
                    return true;
                }

                last = $"{(int)resp.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }

            await Task.Delay(100);
        }

        Console.Error.WriteLine($"error: {readyz} not ready after 60s (last: {last}):{System.Environment.NewLine}{server.Tail()}");
        return false;
    }

    /// <summary>One JSON POST outside the load (a smoke request); status 0 with the error when it could not be sent.</summary>
    public static async Task<(int Status, string Body)> PostOnceAsync(Uri url, ReadOnlyMemory<byte> body, string? apiKey)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
        using var req = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ReadOnlyMemoryContent(body) };
        req.Content.Headers.ContentType = new("application/json");
        if (apiKey is not null)
        {
            req.Headers.TryAddWithoutValidation("api_key", apiKey);
        }

        try
        {
            using var resp = await client.SendAsync(req);
            return ((int)resp.StatusCode, await resp.Content.ReadAsStringAsync());
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return (0, e.Message);
        }
    }

    /// <summary>
    /// <c>partners create NAME [--scope SCOPE]</c> with the server's environment (it creates and migrates the database
    /// too); null, with the exit code and log tail on stderr, when it printed no key.
    /// </summary>
    public static async Task<PartnerCreated?> CreatePartnerAsync(
        string dotnet, string serverDll, Dictionary<string, string?> env, string workDir, string logPath, string name, string? scope = null)
    {
        var stdout = new StringBuilder();
        string[] scoped = scope is null ? [] : ["--scope", scope];
        using var create = ChildProcess.Start(dotnet, [serverDll, "partners", "create", name, .. scoped], logPath, workDir, env, onStdoutLine: l => stdout.AppendLine(l));
        int? code = await create.WaitAsync(TimeSpan.FromMinutes(5));
        var partner = code == 0 ? ParsePartner(stdout.ToString()) : null;
        if (partner is null)
        {
            Console.Error.WriteLine($"error: `partners create {name}` exited with {code?.ToString(CultureInfo.InvariantCulture) ?? "timeout"} and printed no key:{System.Environment.NewLine}{create.Tail()}");
        }

        return partner;
    }

    private static PartnerCreated? ParsePartner(string stdout)
    {
        // The command prints {"partner_id": "...", "api_key": "pek_..."}; on a fresh database other
        // text (e.g. the one-time default admin key notice) may come first, so try every line that
        // opens a JSON object, up to the last closing brace.
        int end = stdout.LastIndexOf('}');
        string[] lines = stdout.Split('\n');
        int offset = 0;
        foreach (string line in lines)
        {
            int start = offset + (line.Length - line.TrimStart().Length);
            offset += line.Length + 1;
            if (!line.TrimStart().StartsWith('{') || end <= start)
            {
                continue;
            }

            try
            {
                var p = JsonSerializer.Deserialize(stdout[start..(end + 1)], WireJsonContext.Default.PartnerCreated);
                if (!string.IsNullOrEmpty(p?.ApiKey))
                {
                    return p;
                }
            }
            catch (JsonException)
            {
                // Not the JSON we want; keep looking.
            }
        }

        return null;
    }
}
