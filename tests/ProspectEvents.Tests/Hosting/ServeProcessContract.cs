using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Hosting;

/// <summary>
/// The same promises with real <c>serve</c> processes of the executable: several started at once on an empty database
/// create one partner <c>default</c>; each is listed by <c>GET /v1/admin/processes</c> until it stops (SIGTERM) or
/// misses three beats (SIGKILL); an older build beside a newer one stops its ingest and says so, and the newer one logs
/// it. Once per backend.
/// </summary>
public abstract class ServeProcessContract(Backend backend)
{
    [Fact]
    public async Task ServeProcessesStartedAtOnceCreateOneDefaultPartnerAndAreListedUntilTheyStop()
    {
        var storage = await TestStorage.CreateAsync(backend);
        using var a = ServeProcess.Start(storage);
        using var b = ServeProcess.Start(storage);
        using var c = ServeProcess.Start(storage);
        await Task.WhenAll(a.WaitReadyAsync(), b.WaitReadyAsync(), c.WaitReadyAsync());

        var keys = new[] { a, b, c }.Select(p => ServerUnderTest.KeyPattern().Match(p.Output)).Where(m => m.Success).ToList();
        Assert.Single(keys);
        Assert.Equal(1L, await CountAsync(storage, "SELECT COUNT(*) FROM partners WHERE name = 'default'"));
        Assert.Equal(1L, await CountAsync(storage, "SELECT COUNT(*) FROM partners"));

        using var admin = a.Client(keys[0].Value);
        Assert.Equal(new[] { a.Pid, b.Pid, c.Pid }.Order(), (await PidsAsync(admin)).Order());

        b.Terminate(); // a clean stop removes its row at once
        await b.WaitForExitAsync();
        Assert.Equal(new[] { a.Pid, c.Pid }.Order(), (await PidsAsync(admin)).Order());

        c.Kill(); // no clean stop: its row ages out after three missed beats
        await WaitUntilAsync(async () => (await PidsAsync(admin)).SequenceEqual([a.Pid]), "the killed process was still listed");
    }

    [Fact]
    public async Task AnOlderServeProcessStopsItsIngestBesideANewerOneWhichLogsIt()
    {
        var storage = await TestStorage.CreateAsync(backend);
        using var newer = ServeProcess.Start(storage);
        await newer.WaitReadyAsync();
        var key = ServerUnderTest.KeyPattern().Match(newer.Output).Value;
        using var older = ServeProcess.Start(storage, new() { ["Internal__ClaimSchemaVersion"] = "12" });
        await older.WaitReadyAsync(HttpStatusCode.ServiceUnavailable);

        using var probe = older.Client(null);
        var ready = JsonDocument.Parse(await (await probe.GetAsync("/readyz")).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("outdated", ready.GetProperty("status").GetString());
        Assert.Contains("newer than this build knows (12)", older.Output);
        using var olderAdmin = older.Client(key);
        var refused = await olderAdmin.PostAsync("/v1/admin/observations", new StringContent(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme") + "\n"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);

        await WaitUntilAsync(() => Task.FromResult(newer.Output.Contains($"(pid {older.Pid}, roles api,ingest,dispatcher,scheduler) runs an older build", StringComparison.Ordinal)),
            "the newer process did not log the older one");
        using var newerAdmin = newer.Client(key);
        var listed = (await (await newerAdmin.GetAsync("/v1/admin/processes")).ExpectAsync(200)).GetProperty("processes").EnumerateArray()
            .Single(p => p.GetProperty("pid").GetInt32() == older.Pid);
        Assert.Equal("outdated", listed.GetProperty("state").GetString());
        Assert.Equal(12, listed.GetProperty("schema_version").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await newerAdmin.PostAsync("/v1/admin/observations", new StringContent(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Acme") + "\n"))).StatusCode);
    }

    private static async Task<int[]> PidsAsync(HttpClient admin) =>
        [.. (await (await admin.GetAsync("/v1/admin/processes")).ExpectAsync(200)).GetProperty("processes").EnumerateArray().Select(p => p.GetProperty("pid").GetInt32())];

    private static async Task WaitUntilAsync(Func<Task<bool>> done, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await done())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(100);
        }
    }

    private static async Task<long> CountAsync(StorageOptions storage, string sql)
    {
        await using var store = Store.Create(storage);
        await using var connection = await store.OpenConnectionAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The server executable serving on a free loopback port, beating every 200 ms, its output kept.</summary>
    private sealed class ServeProcess : IDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();

        private ServeProcess(Process process, Uri address)
        {
            _process = process;
            Address = address;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Uri Address { get; }

        public int Pid => _process.Id;

        public string Output => string.Join('\n', _lines);

        public static ServeProcess Start(StorageOptions storage, Dictionary<string, string?>? environment = null)
        {
            var address = new Uri($"http://127.0.0.1:{ProspectEvents.Testing.Loopback.FreePort()}");
            var settings = new Dictionary<string, string?>
            {
                ["Storage__Provider"] = storage.Provider,
                ["Storage__ConnectionString"] = storage.ConnectionString,
                ["Processes__HeartbeatInterval"] = "00:00:00.200",
            };
            foreach (var (name, value) in environment ?? []) settings[name] = value;
            var start = ProspectEvents.Testing.ProcessRunner.CreateStartInfo("dotnet",
                [Path.Combine(AppContext.BaseDirectory, "ProspectEvents.Server.dll"), "serve", "--urls", address.ToString()], AppContext.BaseDirectory, settings, redirectStandardInput: false);
            return new ServeProcess(Process.Start(start)!, address);
        }

        public HttpClient Client(string? apiKey)
        {
            var client = new HttpClient { BaseAddress = Address };
            if (apiKey is not null) client.DefaultRequestHeaders.Add("api_key", apiKey);
            return client;
        }

        /// <summary>Waits until <c>/readyz</c> answers <paramref name="status"/>, failing with the process's output if it exits or takes too long.</summary>
        public async Task WaitReadyAsync(HttpStatusCode status = HttpStatusCode.OK)
        {
            using var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                try
                {
                    if ((await client.GetAsync("/readyz")).StatusCode == status) return;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    // Not listening yet, or its first request still warming up on a busy machine.
                }
                await Task.Delay(100);
            }
            Assert.Fail($"/readyz did not answer {(int)status}:\n{Output}");
        }

        public void Terminate() => Process.Start("kill", ["-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

        public void Kill() => _process.Kill();

        public Task WaitForExitAsync() => _process.WaitForExitAsync();

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
        }
    }
}

public sealed class SqliteServeProcessTests() : ServeProcessContract(Backend.Sqlite);

public sealed class PostgresServeProcessTests() : ServeProcessContract(Backend.Postgres);
