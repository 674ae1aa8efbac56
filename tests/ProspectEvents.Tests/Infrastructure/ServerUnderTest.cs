using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ProspectEvents.Server.Cli;
using ProspectEvents.Server.Hosting;
using ProspectEvents.Server.Ingest;
using ProspectEvents.Storage;

namespace ProspectEvents.Tests.Infrastructure;

/// <summary>
/// The real server on a free loopback port, on a fresh database of the chosen backend, with a hand-driven clock.
/// Tests talk to it over real HTTP only.
/// </summary>
public sealed partial class ServerUnderTest : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ServerUnderTest(WebApplication app, Uri address, string adminKey, ManualClock clock, StorageOptions storage)
    {
        _app = app;
        Address = address;
        AdminKey = adminKey;
        Clock = clock;
        Storage = storage;
    }

    public Uri Address { get; }

    /// <summary>The admin key of partner <c>default</c>, parsed from what the first start printed.</summary>
    public string AdminKey { get; }

    public ManualClock Clock { get; }

    public StorageOptions Storage { get; }

    public Store Store => _app.Services.GetRequiredService<Store>();

    /// <summary>The server's ingest engine: its cache and housekeeping thresholds, as every ingest of this server uses them.</summary>
    public IngestEngine Ingest => _app.Services.GetRequiredService<IngestEngine>();

    public IServiceProvider Services => _app.Services;

    /// <param name="configure">Runs after the test settings are applied, e.g. to add a logging provider (<see cref="LogCapture"/>).</param>
    /// <summary>Where every server's clock starts.</summary>
    public static readonly DateTimeOffset ClockStart = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    public static async Task<ServerUnderTest> StartAsync(Backend backend, IReadOnlyDictionary<string, string?>? settings = null, Action<WebApplicationBuilder>? configure = null) =>
        await StartAsync(await TestStorage.CreateAsync(backend), settings, null, configure);

    /// <summary>The server on a database made beforehand, e.g. by <see cref="TestStorage.CreateAsync"/> with settings added to its connection string.</summary>
    public static Task<ServerUnderTest> StartAsync(StorageOptions storage, IReadOnlyDictionary<string, string?>? settings = null, Action<WebApplicationBuilder>? configure = null) =>
        StartAsync(storage, settings, null, configure);

    /// <summary>
    /// A second server on <paramref name="first"/>'s database (as another process would be), on the same clock.
    /// It created no partner, so it knows no admin key of its own: use the first one's.
    /// </summary>
    public static Task<ServerUnderTest> StartBesideAsync(ServerUnderTest first, IReadOnlyDictionary<string, string?>? settings = null, Action<WebApplicationBuilder>? configure = null) =>
        StartAsync(first.Storage, settings, first, configure);

    private static async Task<ServerUnderTest> StartAsync(
        StorageOptions storage, IReadOnlyDictionary<string, string?>? settings, ServerUnderTest? beside, Action<WebApplicationBuilder>? configure)
    {
        var clock = beside?.Clock ?? new ManualClock(ClockStart);
        var app = ServerApp.Build(["--urls", "http://127.0.0.1:0"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Storage:Provider"] = storage.Provider,
                ["Storage:ConnectionString"] = storage.ConnectionString,
                ["Logging:LogLevel:Default"] = "Warning",
            });
            if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);
            builder.Services.AddSingleton<TimeProvider>(clock);
            configure?.Invoke(builder);
        });

        var printed = new StringWriter();
        await app.PrepareAsync(printed, CancellationToken.None);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        // A first start prints an admin key; on a database that had partners already (a migration test's), one is made.
        var adminKey = beside?.AdminKey ?? (KeyPattern().Match(printed.ToString()) is { Success: true } match
            ? match.Value
            : (await app.Services.GetRequiredService<Store>().CreatePartnerAsync("test-admin", KeyScope.Admin, clock.GetUtcNow(), CancellationToken.None)).Secret);
        return new ServerUnderTest(app, new Uri(address), adminKey, clock, storage);
    }

    /// <summary>An HTTP client sending <paramref name="apiKey"/> in the <c>api_key</c> header (none when null).</summary>
    public HttpClient Client(string? apiKey)
    {
        var client = new HttpClient { BaseAddress = Address };
        if (apiKey is not null) client.DefaultRequestHeaders.Add("api_key", apiKey);
        return client;
    }

    /// <summary>A new partner with a partner-scope key, and a client that uses it.</summary>
    public async Task<(string PartnerId, HttpClient Client)> NewPartnerAsync(string name = "acme")
    {
        var key = await Store.CreatePartnerAsync(name, KeyScope.Partner, Clock.GetUtcNow(), CancellationToken.None);
        return (key.PartnerId, Client(key.Secret));
    }

    /// <summary>Posts NDJSON observations with the admin key and returns the ingest summary.</summary>
    public async Task<JsonElement> IngestAsync(string ndjson, int status = 200)
    {
        using var admin = Client(AdminKey);
        return await (await admin.PostAsync("/v1/admin/observations", new StringContent(ndjson, Encoding.UTF8, "application/x-ndjson"))).ExpectAsync(status);
    }

    /// <summary>Runs the <c>ingest</c> verb on <paramref name="path"/> against this server's database: another process's store, as far as ingest can tell.</summary>
    public Task<(int ExitCode, JsonElement? Summary, string Error)> IngestWithVerbAsync(string path) => RunVerbAsync(["ingest", path, .. Storage.Arguments()]);

    /// <summary>
    /// Runs the <c>ingest</c> verb on <paramref name="ndjson"/> (written to a temporary file): a store with a cold cache
    /// of its own, as another process would have. Fails the test unless it exits 0; returns its summary.
    /// </summary>
    public async Task<JsonElement> IngestElsewhereAsync(string ndjson)
    {
        var path = Path.Combine(Path.GetTempPath(), $"feed-{Guid.NewGuid():N}.ndjson");
        await File.WriteAllTextAsync(path, ndjson);
        var (exit, summary, error) = await IngestWithVerbAsync(path);
        Assert.True(exit == 0, error);
        return summary!.Value;
    }

    /// <summary>Runs one SQL statement on this server's database, behind its back; returns the first value, if any.</summary>
    public async Task<object?> SqlAsync(string sql)
    {
        await using var connection = await Store.OpenConnectionAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    /// <summary>Runs a CLI verb in this process; its JSON output parsed, if it printed any.</summary>
    public static async Task<(int ExitCode, JsonElement? Summary, string Error)> RunVerbAsync(string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await Verbs.RunAsync(args, output, error);
        var text = output.ToString();
        return (exit, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : null, error.ToString());
    }

    /// <summary>Stops the server as a clean shutdown (SIGTERM) would: every worker's stop runs. Disposing alone skips them.</summary>
    public Task StopAsync() => _app.StopAsync();

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [GeneratedRegex("pek_[A-Za-z0-9_-]{43}")]
    public static partial Regex KeyPattern();
}

/// <summary>Small helpers for talking JSON over HTTP in tests.</summary>
public static class HttpJson
{
    public const string EnrollmentsPath = "/v1/prospects/events/enrollments";

    public static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, string json) => client.PostAsync(path, Body(json));

    public static Task<HttpResponseMessage> SendJsonAsync(this HttpClient client, HttpMethod method, string path, string json) =>
        client.SendAsync(new HttpRequestMessage(method, path) { Content = Body(json) });

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        try
        {
            return JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new InvalidOperationException($"Response {(int)response.StatusCode} is not JSON: {text}");
        }
    }

    /// <summary>Asserts the status and returns the JSON body, showing the body when the status is wrong.</summary>
    public static async Task<JsonElement> ExpectAsync(this HttpResponseMessage response, int status)
    {
        var body = await response.JsonAsync();
        Assert.True((int)response.StatusCode == status, $"Expected {status}, got {(int)response.StatusCode}: {body}");
        return body;
    }

    public static string[] Strings(this JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    public static MediaTypeHeaderValue JsonType => new("application/json");
}
