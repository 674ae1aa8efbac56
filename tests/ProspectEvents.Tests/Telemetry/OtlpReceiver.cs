using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ProspectEvents.Tests.Telemetry;

/// <summary>
/// A real OTLP/HTTP endpoint on loopback: it keeps every POST's path and protobuf body and answers 200 with an empty
/// export response, as a collector does. Protobuf strings are raw UTF-8, so a name is found by searching the bytes.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(string Path, byte[] Body)> _posts = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    public Uri Address { get; private set; } = null!;

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/{signal}", async (HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            receiver._posts.Enqueue((http.Request.Path, body.ToArray()));
            http.Response.ContentType = "application/x-protobuf";
        });
        await app.StartAsync();
        receiver.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return receiver;
    }

    /// <summary>True once some POST to <paramref name="path"/> has held every one of <paramref name="names"/> (each in some POST).</summary>
    public bool Received(string path, params string[] names) =>
        names.All(name => _posts.Any(p => p.Path == path && Contains(p.Body, name)));

    /// <summary>True when any POST to <paramref name="path"/> holds <paramref name="text"/>.</summary>
    public bool AnyHolds(string path, string text) => _posts.Any(p => p.Path == path && Contains(p.Body, text));

    /// <summary>The printable text around the first place <paramref name="text"/> occurs in a POST to <paramref name="path"/>, for a failure message.</summary>
    public string Around(string path, string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        foreach (var (posted, body) in _posts)
        {
            var at = posted == path ? body.AsSpan().IndexOf(needle) : -1;
            if (at < 0) continue;
            var from = Math.Max(0, at - 120);
            var window = body.AsSpan(from, Math.Min(body.Length, at + needle.Length + 40) - from);
            return new string(Encoding.UTF8.GetString(window).Select(c => char.IsControl(c) ? '.' : c).ToArray());
        }
        return "";
    }

    public IEnumerable<string> Paths => _posts.Select(p => p.Path).Distinct();

    private static bool Contains(byte[] body, string text) => body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;

    public async Task WaitForAsync(Func<bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited in vain for {what}; POSTs received to: {string.Join(", ", Paths)}");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
