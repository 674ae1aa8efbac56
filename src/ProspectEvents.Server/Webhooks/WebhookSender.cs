using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;
using ProspectEvents.Server.Telemetry;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Webhooks;

/// <summary>What one POST to a receiver came to.</summary>
/// <param name="StatusCode">The HTTP status, or null when no answer came (timeout, refused, reset, blocked address).</param>
/// <param name="RetryAfter">The receiver's <c>Retry-After</c> on a 429 or 503.</param>
public readonly record struct SendResult(int? StatusCode, string? Error, string? Response, TimeSpan Duration, TimeSpan? RetryAfter)
{
    public bool Succeeded => StatusCode is >= 200 and < 300;

    /// <summary>What went wrong, for logs and the connectivity check; null on success.</summary>
    public string? Problem => Succeeded ? null : Error ?? $"HTTP {StatusCode}";
}

/// <summary>
/// POSTs signed webhook requests: both signature schemes over the exact bytes sent, the webhook's own headers, no
/// redirects followed, the answer read up to <see cref="MaxResponseBytes"/>, and connections only to addresses
/// <see cref="OutboundGuard"/> allows (checked after DNS resolution, on every new connection).
/// </summary>
public sealed class WebhookSender : IDisposable
{
    public const int MaxResponseBytes = 1024;

    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _clock;

    public WebhookSender(IOptions<WebhookOptions> options, TimeProvider clock)
    {
        var settings = options.Value;
        _timeout = settings.Timeout;
        _clock = clock;
        var handler = OutboundGuard.CreateHandler(settings.AllowPrivateNetworks, settings.Timeout);
        handler.MaxConnectionsPerServer = Math.Max(settings.Concurrency, 1);
        handler.ActivityHeadersPropagator = null; // no traceparent: a partner's receiver is not part of our trace
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan }; // each request has its own deadline
    }

    public async Task<SendResult> SendAsync(WebhookRecord webhook, string messageId, byte[] body, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, webhook.WebhookUrl) { Content = new ByteArrayContent(body) };
            request.Options.Set(TelemetrySetup.WebhookRequest, true);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            request.Headers.UserAgent.ParseAdd("ProspectEvents-Webhooks/1");
            foreach (var header in webhook.Headers)
            {
                var colon = header.IndexOf(':', StringComparison.Ordinal);
                // Registration refuses what a request cannot carry; a header that still does not fit is a failed attempt.
                if (!request.Headers.TryAddWithoutValidation(header[..colon].Trim(), header[(colon + 1)..].Trim()))
                    return new SendResult(null, $"custom header '{header[..colon].Trim()}' cannot be sent", null, Stopwatch.GetElapsedTime(started), null);
            }
            var now = _clock.GetUtcNow();
            WebhookSigner.Apply(request.Headers, WebhookSigner.Sign(webhook.SigningKeys(now), messageId, now.ToUnixTimeSeconds(), body));

            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            var snippet = await OutboundGuard.ReadSnippetAsync(response.Content, MaxResponseBytes, deadline.Token);
            var status = (int)response.StatusCode;
            var retryAfter = response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable
                ? RetrySchedule.ParseRetryAfter(response.Headers.RetryAfter, _clock.GetUtcNow())
                : null;
            return new SendResult(status, null, snippet, Stopwatch.GetElapsedTime(started), retryAfter);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new SendResult(null, $"timed out after {_timeout.TotalSeconds:0.###} s", null, Stopwatch.GetElapsedTime(started), null);
        }
        catch (HttpRequestException e)
        {
            return new SendResult(null, Describe(e), null, Stopwatch.GetElapsedTime(started), null);
        }
    }

    private static string Describe(HttpRequestException e) =>
        e.InnerException is { } inner && !e.Message.Contains(inner.Message, StringComparison.Ordinal) ? $"{e.Message} ({inner.Message})" : e.Message;

    public void Dispose() => _http.Dispose();
}
