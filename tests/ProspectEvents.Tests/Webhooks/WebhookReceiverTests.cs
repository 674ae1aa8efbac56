using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ProspectEvents.Server.Webhooks;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Webhooks;

/// <summary>The test receiver must be trustworthy before delivery tests lean on it: requests here are signed by hand.</summary>
public sealed class WebhookReceiverTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Key = Enumerable.Range(100, 32).Select(i => (byte)i).ToArray();
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"event_id":"ev_1","event_name":"prospect_changed_role"}""");

    private readonly HttpClient _client = new() { Timeout = TimeSpan.FromSeconds(10) };
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync(AnchorText(Key));
        _receiver.Clock = new ManualClock(Now);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task AHandSignedRequestIsVerifiedUnderBothSchemes()
    {
        using var response = await _client.SendAsync(Signed("msg_1", Now, Body));

        var received = Assert.Single(_receiver.Requests);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(received.AnchorVerified);
        Assert.True(received.StandardVerified);
        Assert.Equal("msg_1", received.WebhookId);
        Assert.Equal("/hooks", received.Path);
        Assert.Equal(Body, received.Body);
        Assert.Equal(200, received.AnsweredStatus);
    }

    [Fact]
    public async Task TheWhsecFormOfTheSecretVerifiesTheSameRequest()
    {
        _receiver.SetSecret("whsec_" + Convert.ToBase64String(Key));

        using var response = await _client.SendAsync(Signed("msg_1", Now, Body));

        var received = Assert.Single(_receiver.Requests);
        Assert.True(received.AnchorVerified && received.StandardVerified);
    }

    [Fact]
    public async Task ATamperedBodyFailsBothSchemes()
    {
        var request = Signed("msg_1", Now, Body);
        request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"event_id":"ev_2","event_name":"prospect_changed_role"}"""));

        using var response = await _client.SendAsync(request);

        var received = Assert.Single(_receiver.Requests);
        Assert.False(received.AnchorVerified);
        Assert.False(received.StandardVerified);
    }

    [Fact]
    public async Task ARequestSignedWithAnotherSecretFailsBothSchemes()
    {
        _receiver.SetSecret(AnchorText(RandomNumberGenerator.GetBytes(32)));

        using var response = await _client.SendAsync(Signed("msg_1", Now, Body));

        var received = Assert.Single(_receiver.Requests);
        Assert.False(received.AnchorVerified || received.StandardVerified);
    }

    [Fact]
    public async Task ATimestampOlderThanFiveMinutesFailsBothSchemes()
    {
        using var response = await _client.SendAsync(Signed("msg_1", Now.AddMinutes(-6), Body));

        var received = Assert.Single(_receiver.Requests);
        Assert.False(received.AnchorVerified || received.StandardVerified);
    }

    [Fact]
    public async Task AnyMatchingEntryAmongSeveralStandardSignaturesPasses()
    {
        var request = Signed("msg_1", Now, Body);
        var good = request.Headers.GetValues("webhook-signature").Single();
        request.Headers.Remove("webhook-signature");
        request.Headers.TryAddWithoutValidation("webhook-signature", $"v1,{Convert.ToBase64String(new byte[32])} {good}");

        using var response = await _client.SendAsync(request);

        Assert.True(Assert.Single(_receiver.Requests).StandardVerified);
    }

    [Fact]
    public async Task ADeliverySignedByTheSignerVerifiesUnderBothSchemes()
    {
        var key = WebhookSecret.New();
        _receiver.SetSecret(WebhookSecret.ToStandardText(key));
        using var request = new HttpRequestMessage(HttpMethod.Post, _receiver.Url) { Content = new ByteArrayContent(Body) };
        WebhookSigner.Apply(request.Headers, WebhookSigner.Sign(key, "msg_signer", Now.ToUnixTimeSeconds(), Body));

        using var response = await _client.SendAsync(request);

        var received = Assert.Single(_receiver.Requests);
        Assert.True(received.AnchorVerified);
        Assert.True(received.StandardVerified);
    }

    [Fact]
    public async Task TheReportCountsEachSinksRequestsAndRepeatsAndKeepsTheirBodiesAsSamples()
    {
        foreach (var (sink, id) in new[] { ("a", "msg_1"), ("a", "msg_1"), ("a", "msg_2"), ("b", "msg_3") })
        {
            using var request = Signed(id, Now, Body);
            request.RequestUri = new Uri(_receiver.BaseUri, $"hook/{sink}");
            using var response = await _client.SendAsync(request);
        }

        var report = JsonSerializer.Deserialize(await _client.GetStringAsync(new Uri(_receiver.BaseUri, "report/a?arrivals=true")), ReceiverJsonContext.Default.ReceiverReport)!;
        var samples = JsonSerializer.Deserialize(await _client.GetStringAsync(new Uri(_receiver.BaseUri, "samples/b")), ReceiverJsonContext.Default.ListRequestSample)!;

        Assert.Equal((3L, 1L, 3L * Body.Length), (report.Count, report.Duplicates, report.BodyBytes));
        Assert.Equal(["ev_1", "ev_1", "ev_1"], report.EventIds!);
        var sample = Assert.Single(samples);
        Assert.Equal(Encoding.UTF8.GetString(Body), sample.Body);
        Assert.Contains(sample.Headers, h => string.Equals(h[0], "webhook-id", StringComparison.OrdinalIgnoreCase) && h[1] == "msg_3");
        Assert.DoesNotContain(sample.Headers, h => string.Equals(h[0], "Host", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task FailFirstFailsEachIdsFirstRequestsThenSucceeds()
    {
        _receiver.Behaviour = ReceiverAnswer.FailFirst(1, 500);

        var statuses = new List<HttpStatusCode>();
        foreach (var id in new[] { "msg_1", "msg_1", "msg_2", "msg_1" })
        {
            using var response = await _client.SendAsync(Signed(id, Now, Body));
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.InternalServerError, HttpStatusCode.OK, HttpStatusCode.InternalServerError, HttpStatusCode.OK], statuses);
        Assert.Equal([500, 200, 500, 200], _receiver.Requests.Select(r => r.AnsweredStatus));
    }

    [Fact]
    public async Task AScriptedAnswerCarriesItsRetryAfterAndBody()
    {
        _receiver.Behaviour = (_, _) => new ReceiverAnswer(429, RetryAfter: "120", Body: "slow down");

        using var response = await _client.SendAsync(Signed("msg_1", Now, Body));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(120), response.Headers.RetryAfter?.Delta);
        Assert.Equal("slow down", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnAbortedAnswerResetsTheConnection()
    {
        _receiver.Behaviour = (_, _) => new ReceiverAnswer(200, Abort: true);

        await Assert.ThrowsAsync<HttpRequestException>(() => _client.SendAsync(Signed("msg_1", Now, Body)));

        Assert.Equal(0, Assert.Single(_receiver.Requests).AnsweredStatus);
    }

    [Fact]
    public async Task ADelayedAnswerIsRecordedWhileTheSenderWaits()
    {
        _receiver.Behaviour = (_, _) => new ReceiverAnswer(200, Delay: TimeSpan.FromMinutes(5));
        using var timeout = new CancellationTokenSource();

        var sending = _client.SendAsync(Signed("msg_1", Now, Body), timeout.Token);
        var requests = await _receiver.WaitForAsync(r => r.Count == 1, TimeSpan.FromSeconds(10));
        await timeout.CancelAsync();

        Assert.False(sending.IsCompletedSuccessfully);
        Assert.Equal("msg_1", requests[0].WebhookId);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
    }

    [Fact]
    public async Task WaitingInVainSaysWhatDidArrive()
    {
        _receiver.Behaviour = (_, _) => new ReceiverAnswer(503);
        using var response = await _client.SendAsync(Signed("msg_1", Now, Body));

        var error = await Assert.ThrowsAsync<TimeoutException>(() => _receiver.WaitForAsync(r => r.Count == 2, TimeSpan.FromMilliseconds(200)));

        Assert.Contains("1 request(s) arrived", error.Message, StringComparison.Ordinal);
        Assert.Contains("webhook-id=msg_1 anchor=ok standard=ok answered=503", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A request signed under both schemes with HMACSHA256 directly; header names in odd casing on purpose.</summary>
    private HttpRequestMessage Signed(string id, DateTimeOffset at, byte[] body)
    {
        var timestamp = at.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var request = new HttpRequestMessage(HttpMethod.Post, _receiver.Url) { Content = new ByteArrayContent(body) };
        request.Headers.TryAddWithoutValidation("x-timestamp", timestamp);
        request.Headers.TryAddWithoutValidation("X-SIGNATURE", AnchorText(Mac($"{timestamp}.", body)));
        request.Headers.TryAddWithoutValidation("Webhook-Id", id);
        request.Headers.TryAddWithoutValidation("Webhook-Timestamp", timestamp);
        request.Headers.TryAddWithoutValidation("webhook-signature", "v1," + Convert.ToBase64String(Mac($"{id}.{timestamp}.", body)));
        return request;
    }

    private static byte[] Mac(string prefix, byte[] body)
    {
        byte[] message = [.. Encoding.UTF8.GetBytes(prefix), .. body];
        return HMACSHA256.HashData(Key, message);
    }

    private static string AnchorText(byte[] bytes) => Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_');
}
