using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ProspectEvents.Bench;

/// <summary>
/// The webhook receiver of the `deliveries` benchmark (hidden verb `webhook-receiver`): a minimal Kestrel app, like
/// <see cref="EchoServer"/>, that answers every <c>POST /hook/{sink}</c> with an empty 200 at once, after reading the
/// body. It is not an echo: per sink it records each request's arrival time (UTC ticks, taken before the body is read),
/// the <c>event_id</c> of the body and the <c>webhook-id</c> header (duplicates counted), and keeps the first
/// <see cref="MaxSamples"/> bodies with their headers so the baseline can send the very same requests. No signature
/// check: that is the receiver's cost, not the sender's. The orchestrator reads <c>GET /report/{sink}</c> and
/// <c>GET /samples/{sink}</c>.
/// </summary>
internal static class WebhookReceiver
{
    public const int MaxSamples = 512;

    // Headers the HTTP stack sets itself; everything else a sample carries is sent again as is by the baseline.
    private static readonly HashSet<string> TransportHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Transfer-Encoding", "Connection", "Expect",
    };

    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(l => l.Protocols = HttpProtocols.Http1));
        var app = builder.Build();
        var sinks = new ConcurrentDictionary<string, Sink>(StringComparer.Ordinal);

        app.MapGet("/readyz", () => TypedResults.Ok());
        app.MapPost("/hook/{sink}", (RequestDelegate)(http => ReceiveAsync(http, sinks)));
        app.MapGet("/report/{sink}", (string sink, bool? arrivals) =>
            TypedResults.Text(JsonSerializer.Serialize(sinks.GetOrAdd(sink, _ => new Sink()).Report(sink, arrivals == true), ReceiverJsonContext.Default.ReceiverReport), "application/json"));
        app.MapGet("/samples/{sink}", (string sink) =>
            TypedResults.Text(JsonSerializer.Serialize(sinks.GetOrAdd(sink, _ => new Sink()).Samples(), ReceiverJsonContext.Default.ListRequestSample), "application/json"));

        await app.RunAsync();
        return 0;
    }

    private static async Task ReceiveAsync(HttpContext http, ConcurrentDictionary<string, Sink> sinks)
    {
        long arrived = DateTime.UtcNow.Ticks;
        var sink = sinks.GetOrAdd((string)http.Request.RouteValues["sink"]!, _ => new Sink());
        var reader = http.Request.BodyReader;
        ReadResult read;
        while (true)
        {
            read = await reader.ReadAsync(http.RequestAborted);
            if (read.IsCompleted || read.IsCanceled)
            {
                break;
            }

            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }

        var body = read.Buffer;
        sink.Add(arrived, EventId(body), http.Request.Headers["webhook-id"].ToString(), body.Length, http.Request.Headers, body);
        reader.AdvanceTo(body.End);
        http.Response.StatusCode = StatusCodes.Status200OK;
    }

    /// <summary>The body's <c>event_id</c> (the server writes it first; searched in the first 128 bytes), or null.</summary>
    private static string? EventId(ReadOnlySequence<byte> body)
    {
        Span<byte> head = stackalloc byte[(int)Math.Min(body.Length, 128)];
        body.Slice(0, head.Length).CopyTo(head);
        ReadOnlySpan<byte> key = "\"event_id\":\""u8;
        int at = head.IndexOf(key);
        if (at < 0)
        {
            return null;
        }

        var rest = head[(at + key.Length)..];
        int end = rest.IndexOf((byte)'"');
        return end < 0 ? null : Encoding.ASCII.GetString(rest[..end]);
    }

    private sealed class Sink
    {
        private readonly Lock _gate = new();
        private readonly List<long> _ticks = new(65_536);
        private readonly List<string?> _eventIds = new(65_536);
        private readonly HashSet<string> _webhookIds = new(StringComparer.Ordinal);
        private readonly List<RequestSample> _samples = [];
        private long _bytes;
        private long _duplicates;
        private int _sampleCount;

        public void Add(long arrived, string? eventId, string webhookId, long bodyBytes, IHeaderDictionary headers, ReadOnlySequence<byte> body)
        {
            RequestSample? sample = null;
            if (Volatile.Read(ref _sampleCount) < MaxSamples)
            {
                sample = new RequestSample(
                    Encoding.UTF8.GetString(body),
                    [.. headers.Where(h => !TransportHeaders.Contains(h.Key)).Select(h => new[] { h.Key, h.Value.ToString() })]);
            }

            lock (_gate)
            {
                _ticks.Add(arrived);
                _eventIds.Add(eventId);
                _bytes += bodyBytes;
                if (webhookId.Length > 0 && !_webhookIds.Add(webhookId))
                {
                    _duplicates++;
                }

                if (sample is not null && _samples.Count < MaxSamples)
                {
                    _samples.Add(sample);
                    _sampleCount = _samples.Count;
                }
            }
        }

        public ReceiverReport Report(string name, bool arrivals)
        {
            lock (_gate)
            {
                return new ReceiverReport
                {
                    Sink = name,
                    Count = _ticks.Count,
                    Duplicates = _duplicates,
                    BodyBytes = _bytes,
                    FirstTicks = _ticks.Count == 0 ? 0 : _ticks.Min(),
                    LastTicks = _ticks.Count == 0 ? 0 : _ticks.Max(),
                    Ticks = arrivals ? [.. _ticks] : null,
                    EventIds = arrivals ? [.. _eventIds] : null,
                };
            }
        }

        public List<RequestSample> Samples()
        {
            lock (_gate)
            {
                return [.. _samples];
            }
        }
    }
}

/// <summary>One request as the receiver saw it: the body text and its headers (name, value).</summary>
internal sealed record RequestSample(string Body, List<string[]> Headers);

/// <summary>What one receiver sink has seen; the per-request lists only when asked for.</summary>
internal sealed record ReceiverReport
{
    public required string Sink { get; init; }
    public long Count { get; init; }
    public long Duplicates { get; init; }
    public long BodyBytes { get; init; }
    public long FirstTicks { get; init; }
    public long LastTicks { get; init; }
    public List<long>? Ticks { get; init; }
    public List<string?>? EventIds { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ReceiverReport))]
[JsonSerializable(typeof(List<RequestSample>))]
internal sealed partial class ReceiverJsonContext : JsonSerializerContext;
