using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ProspectEvents.Testing;

/// <summary>One request as the receiver saw it, with what its own verification made of both signatures.</summary>
public sealed record ReceivedRequest(
    DateTimeOffset At,
    string Path,
    IReadOnlyDictionary<string, string> Headers,
    byte[] Body,
    bool AnchorVerified,
    bool StandardVerified,
    string? WebhookId,
    int AnsweredStatus)
{
    public string BodyText => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// How the receiver answers one request: a status after an optional delay, with optional <c>Retry-After</c> and body,
/// or a reset connection (<see cref="Abort"/>).
/// </summary>
public sealed record ReceiverAnswer(int Status, TimeSpan Delay = default, string? RetryAfter = null, string? Body = null, bool Abort = false)
{
    public static ReceiverAnswer Ok { get; } = new(200);

    /// <summary>A behaviour answering <paramref name="status"/> to the first <paramref name="n"/> requests of each webhook id, then 200.</summary>
    public static Func<ReceivedRequest, int, ReceiverAnswer> FailFirst(int n, int status) =>
        (_, before) => before < n ? new ReceiverAnswer(status) : Ok;
}

/// <summary>Where a <see cref="WebhookReceiver"/> listens and how much it keeps.</summary>
public sealed record WebhookReceiverOptions
{
    /// <summary>The secret as the API returns it: <c>webhook_secret</c> (base64url) or <c>standard_webhooks_secret</c> (<c>whsec_</c>); null verifies nothing.</summary>
    public string? Secret { get; init; }

    /// <summary>The address to listen on, e.g. <c>http://127.0.0.1:5099</c>; null takes a free loopback port.</summary>
    public string? Url { get; init; }

    /// <summary>How many requests per sink are kept whole (body and headers); later ones are only counted, so a benchmark's flood costs no memory.</summary>
    public int KeepPerSink { get; init; } = int.MaxValue;
}

/// <summary>
/// A real webhook endpoint for delivery tests and the delivery benchmark. It verifies both signature schemes with code
/// of its own (HMAC-SHA256 and base64 written here, nothing shared with the server) so a signer bug cannot hide behind
/// a verifier with the same bug, and answers as <see cref="Behaviour"/> scripts it. Requests are grouped into sinks by
/// the last segment of their path; <c>GET /report/{sink}</c> and <c>GET /samples/{sink}</c> tell another process what
/// a sink has seen, <c>GET /readyz</c> that the receiver is up.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    /// <summary>How far a signed timestamp may be from the receiver's clock, as Standard Webhooks libraries allow.</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    // Headers the HTTP stack sets itself; a sample carries the rest, for a baseline to send again as they are.
    private static readonly HashSet<string> TransportHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Transfer-Encoding", "Connection", "Expect",
    };

    private readonly WebApplication _app;
    private readonly int _keepPerSink;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly List<ReceivedRequest> _requests = [];
    private readonly Dictionary<string, int> _countById = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Sink> _sinks = new(StringComparer.Ordinal);
    private TaskCompletionSource _arrival = NewArrival();
    private volatile byte[]? _key;

    private WebhookReceiver(WebApplication app, byte[]? key, int keepPerSink)
    {
        _app = app;
        _key = key;
        _keepPerSink = keepPerSink;
    }

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>A webhook URL on this receiver; any other path on <see cref="BaseUri"/> is accepted too.</summary>
    public string Url => new Uri(BaseUri, "hooks").ToString();

    /// <summary>Answers each request; the int is how many earlier requests carried the same <c>webhook-id</c>. Null: 200 at once.</summary>
    public Func<ReceivedRequest, int, ReceiverAnswer>? Behaviour { get; set; }

    /// <summary>The clock signed timestamps are checked against; set it to the server's clock when that is driven by hand.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    public IReadOnlyList<ReceivedRequest> Requests
    {
        get
        {
            lock (_gate) return _requests.ToArray();
        }
    }

    /// <param name="secretText">The secret as the API returns it: <c>webhook_secret</c> (base64url) or <c>standard_webhooks_secret</c> (<c>whsec_</c>).</param>
    public static Task<WebhookReceiver> StartAsync(string secretText) => StartAsync(new WebhookReceiverOptions { Secret = secretText });

    public static async Task<WebhookReceiver> StartAsync(WebhookReceiverOptions options)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http1));
        if (options.Url is null)
        {
            builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        }
        else
        {
            builder.WebHost.UseUrls(options.Url);
        }

        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, options.Secret is null ? null : DecodeSecret(options.Secret), options.KeepPerSink);
        app.MapGet("/readyz", () => TypedResults.Ok());
        app.MapGet("/report/{sink}", (string sink, bool? arrivals) =>
            TypedResults.Text(JsonSerializer.Serialize(receiver.SinkNamed(sink).Report(sink, arrivals == true), ReceiverJsonContext.Default.ReceiverReport), "application/json"));
        app.MapGet("/samples/{sink}", (string sink) =>
            TypedResults.Text(JsonSerializer.Serialize(receiver.SinkNamed(sink).Samples(), ReceiverJsonContext.Default.ListRequestSample), "application/json"));
        // Every other path and method is a webhook request (the report routes above are more specific, so they win).
        app.Map("{**path}", receiver.AnswerAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.BaseUri = new Uri(address.TrimEnd('/') + "/");
        return receiver;
    }

    /// <summary>Verifies later requests with another secret, as after a rotation.</summary>
    public void SetSecret(string secretText) => _key = DecodeSecret(secretText);

    /// <summary>Completes when the host is asked to stop (SIGTERM, Ctrl+C), for a receiver that is a process of its own.</summary>
    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    /// <summary>Waits until <paramref name="condition"/> holds for the requests so far; on timeout says what did arrive.</summary>
    public async Task<IReadOnlyList<ReceivedRequest>> WaitForAsync(Func<IReadOnlyList<ReceivedRequest>, bool> condition, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            IReadOnlyList<ReceivedRequest> snapshot;
            Task arrival;
            lock (_gate)
            {
                snapshot = _requests.ToArray();
                arrival = _arrival.Task;
            }

            if (condition(snapshot)) return snapshot;
            var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (remaining <= TimeSpan.Zero) throw new TimeoutException(Summary(timeout, snapshot));
            try
            {
                await arrival.WaitAsync(remaining);
            }
            catch (TimeoutException)
            {
                // Checked once more at the top, then reported.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Cut scripted delays short so stopping does not wait for them.
        await _stopping.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    private async Task AnswerAsync(HttpContext http)
    {
        var at = Clock.GetUtcNow();
        var bytes = await ReadBodyAsync(http.Request.BodyReader, http.RequestAborted);
        var sink = SinkNamed(SinkOf(http.Request.Path));
        var id = http.Request.Headers["webhook-id"].ToString() is { Length: > 0 } header ? header : null;

        int before;
        lock (_gate)
        {
            before = _countById.GetValueOrDefault(id ?? "");
            _countById[id ?? ""] = before + 1;
        }

        // Kept whole only while someone may look at it: a benchmark's flood is only counted.
        var keep = sink.Count < _keepPerSink;
        ReceivedRequest? request = null;
        if (keep || Behaviour is not null)
        {
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, values) in http.Request.Headers) headers[name] = values.ToString();
            var key = _key;
            request = new ReceivedRequest(at, http.Request.Path + http.Request.QueryString, headers, bytes,
                key is not null && VerifyAnchor(key, headers, bytes, at), key is not null && VerifyStandard(key, headers, bytes, at), id, AnsweredStatus: 0);
        }

        var answer = request is null ? ReceiverAnswer.Ok : Behaviour?.Invoke(request, before) ?? ReceiverAnswer.Ok;
        var kept = keep ? request! with { AnsweredStatus = answer.Abort ? 0 : answer.Status } : null;
        // Recorded before any delay, so a test can see the request arrived while the sender is still waiting.
        sink.Add(at.UtcTicks, EventId(bytes), before > 0, bytes.Length, kept, _keepPerSink);
        Record(kept);

        if (answer.Delay > TimeSpan.Zero)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _stopping.Token);
            try
            {
                await Task.Delay(answer.Delay, stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        if (answer.Abort)
        {
            http.Abort();
            return;
        }

        http.Response.StatusCode = answer.Status;
        if (answer.RetryAfter is not null) http.Response.Headers.RetryAfter = answer.RetryAfter;
        if (answer.Body is not null) await http.Response.WriteAsync(answer.Body, http.RequestAborted);
    }

    private void Record(ReceivedRequest? request)
    {
        TaskCompletionSource arrived;
        lock (_gate)
        {
            if (request is not null) _requests.Add(request);
            arrived = _arrival;
            _arrival = NewArrival();
        }

        arrived.SetResult();
    }

    private Sink SinkNamed(string name) => _sinks.GetOrAdd(name, _ => new Sink());

    private static string SinkOf(PathString path) => path.Value is { } p ? p[(p.LastIndexOf('/') + 1)..] : "";

    private static async Task<byte[]> ReadBodyAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await reader.ReadAsync(cancellationToken);
            if (read.IsCompleted || read.IsCanceled)
            {
                var bytes = read.Buffer.ToArray();
                reader.AdvanceTo(read.Buffer.End);
                return bytes;
            }

            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    /// <summary>The body's <c>event_id</c> (the server writes it first; searched in the first 128 bytes), or null.</summary>
    private static string? EventId(byte[] body)
    {
        var head = body.AsSpan(0, Math.Min(body.Length, 128));
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

    private static TaskCompletionSource NewArrival() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Anchor scheme: <c>X-Signature</c> = padded base64url of HMAC-SHA256 over <c>"{X-Timestamp}.{body}"</c>.</summary>
    /// <summary>What one sink has seen: every arrival (time, event id, bytes, repeats), the first requests whole.</summary>
    private sealed class Sink
    {
        private readonly Lock _gate = new();
        private readonly List<long> _ticks = new(1024);
        private readonly List<string?> _eventIds = new(1024);
        private readonly List<ReceivedRequest> _kept = [];
        private long _bytes;
        private long _duplicates;

        public int Count
        {
            get
            {
                lock (_gate) return _ticks.Count;
            }
        }

        public void Add(long ticks, string? eventId, bool duplicate, long bodyBytes, ReceivedRequest? request, int keep)
        {
            lock (_gate)
            {
                _ticks.Add(ticks);
                _eventIds.Add(eventId);
                _bytes += bodyBytes;
                if (duplicate) _duplicates++;
                if (request is not null && _kept.Count < keep) _kept.Add(request);
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
                return [.. _kept.Select(r => new RequestSample(r.BodyText, [.. r.Headers.Where(h => !TransportHeaders.Contains(h.Key)).Select(h => new[] { h.Key, h.Value })]))];
            }
        }
    }

    private static bool VerifyAnchor(byte[] key, Dictionary<string, string> headers, byte[] body, DateTimeOffset now)
    {
        if (!headers.TryGetValue("X-Timestamp", out var timestamp) || !headers.TryGetValue("X-Signature", out var signature)) return false;
        if (!IsFresh(timestamp, now)) return false;
        var expected = Convert.ToBase64String(Mac(key, $"{timestamp}.", body)).Replace('+', '-').Replace('/', '_');
        return SameText(expected, signature);
    }

    /// <summary>Standard Webhooks: any <c>v1,&lt;base64&gt;</c> entry of <c>webhook-signature</c> matching <c>"{id}.{timestamp}.{body}"</c>.</summary>
    private static bool VerifyStandard(byte[] key, Dictionary<string, string> headers, byte[] body, DateTimeOffset now)
    {
        if (!headers.TryGetValue("webhook-id", out var id) || !headers.TryGetValue("webhook-timestamp", out var timestamp)
            || !headers.TryGetValue("webhook-signature", out var signatures)) return false;
        if (!IsFresh(timestamp, now)) return false;
        var expected = Convert.ToBase64String(Mac(key, $"{id}.{timestamp}.", body));
        var matched = false;
        foreach (var entry in signatures.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            // Every entry is compared, so timing does not tell which one matched.
            if (entry.StartsWith("v1,", StringComparison.Ordinal) && SameText(expected, entry[3..])) matched = true;
        }

        return matched;
    }

    private static bool IsFresh(string timestamp, DateTimeOffset now) =>
        long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
        && Math.Abs(now.ToUnixTimeSeconds() - seconds) <= Tolerance.TotalSeconds;

    private static byte[] Mac(byte[] key, string prefix, byte[] body)
    {
        byte[] signed = [.. Encoding.UTF8.GetBytes(prefix), .. body];
        return HMACSHA256.HashData(key, signed);
    }

    private static bool SameText(string expected, string presented) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(presented));

    private static byte[] DecodeSecret(string text)
    {
        if (text.StartsWith("whsec_", StringComparison.Ordinal)) return Convert.FromBase64String(text["whsec_".Length..]);
        var base64 = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '='));
    }

    private static string Summary(TimeSpan timeout, IReadOnlyList<ReceivedRequest> requests)
    {
        var text = new StringBuilder($"The webhook receiver's condition was not met within {timeout.TotalSeconds:0.###} s; ");
        text.Append(requests.Count == 0 ? "no request arrived." : $"{requests.Count} request(s) arrived:");
        foreach (var r in requests)
        {
            var body = r.BodyText.Length > 200 ? r.BodyText[..200] + "…" : r.BodyText;
            text.Append(CultureInfo.InvariantCulture,
                $"\n  {r.At:HH:mm:ss.fff} {r.Path} webhook-id={r.WebhookId ?? "(none)"} anchor={(r.AnchorVerified ? "ok" : "BAD")} standard={(r.StandardVerified ? "ok" : "BAD")} answered={r.AnsweredStatus} body={body}");
        }

        return text.ToString();
    }
}

/// <summary>One request as a sink kept it, for a baseline to send again: the body text and its headers (name, value).</summary>
public sealed record RequestSample(string Body, List<string[]> Headers);

/// <summary>What one receiver sink has seen; the per-request lists only when asked for.</summary>
public sealed record ReceiverReport
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
public sealed partial class ReceiverJsonContext : JsonSerializerContext;
