using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ProspectEvents.Tests.Infrastructure;

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

/// <summary>
/// A real webhook endpoint on a free loopback port for delivery tests. It verifies both signature schemes with code of
/// its own (HMAC-SHA256 and base64 written here, nothing shared with the server) so a signer bug cannot hide behind a
/// verifier with the same bug, and answers as <see cref="Behaviour"/> scripts it.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    /// <summary>How far a signed timestamp may be from the receiver's clock, as Standard Webhooks libraries allow.</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly List<ReceivedRequest> _requests = [];
    private readonly Dictionary<string, int> _countById = new(StringComparer.Ordinal);
    private TaskCompletionSource _arrival = NewArrival();
    private volatile byte[] _key;

    private WebhookReceiver(WebApplication app, byte[] key)
    {
        _app = app;
        _key = key;
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
    public static async Task<WebhookReceiver> StartAsync(string secretText)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, DecodeSecret(secretText));
        app.Run(receiver.AnswerAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.BaseUri = new Uri(address.TrimEnd('/') + "/");
        return receiver;
    }

    /// <summary>Verifies later requests with another secret, as after a rotation.</summary>
    public void SetSecret(string secretText) => _key = DecodeSecret(secretText);

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
        using var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body, http.RequestAborted);
        var bytes = body.ToArray();

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in http.Request.Headers) headers[name] = values.ToString();
        var id = headers.GetValueOrDefault("webhook-id");
        var key = _key;
        var request = new ReceivedRequest(at, http.Request.Path + http.Request.QueryString, headers, bytes,
            VerifyAnchor(key, headers, bytes, at), VerifyStandard(key, headers, bytes, at), id, AnsweredStatus: 0);

        int before;
        lock (_gate)
        {
            before = _countById.GetValueOrDefault(id ?? "");
            _countById[id ?? ""] = before + 1;
        }

        var answer = Behaviour?.Invoke(request, before) ?? ReceiverAnswer.Ok;
        // Recorded before any delay, so a test can see the request arrived while the sender is still waiting.
        Record(request with { AnsweredStatus = answer.Abort ? 0 : answer.Status });

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

    private void Record(ReceivedRequest request)
    {
        TaskCompletionSource arrived;
        lock (_gate)
        {
            _requests.Add(request);
            arrived = _arrival;
            _arrival = NewArrival();
        }

        arrived.SetResult();
    }

    private static TaskCompletionSource NewArrival() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Anchor scheme: <c>X-Signature</c> = padded base64url of HMAC-SHA256 over <c>"{X-Timestamp}.{body}"</c>.</summary>
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
