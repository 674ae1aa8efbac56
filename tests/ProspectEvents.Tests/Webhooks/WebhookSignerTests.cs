using System.Security.Cryptography;
using System.Text;
using ProspectEvents.Server.Webhooks;

namespace ProspectEvents.Tests.Webhooks;

/// <summary>
/// Expected values are computed here with HMACSHA256 directly, or are literals from an independent implementation
/// (Python's hmac module; the Standard Webhooks specification's published vector), never from the signer itself.
/// </summary>
public sealed class WebhookSignerTests
{
    private static readonly byte[] Key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
    private const string MessageId = "msg_2b7f";
    private const long Timestamp = 1767225600;
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"event_id":"ev_1","data":{"title":"Directrice générale"}}""");

    [Fact]
    public void TheAnchorSignatureIsPaddedBase64UrlOfTheMacOverTimestampDotBody()
    {
        var signed = Mac("1767225600.");
        var expected = Convert.ToBase64String(signed).Replace('+', '-').Replace('/', '_');

        var signature = WebhookSigner.Sign(Key, MessageId, Timestamp, Body);

        Assert.Equal(expected, signature.AnchorSignature);
        Assert.Equal("jVuL-IiJedEa-PcvcmDXMtsIo3YQExZiWc-pi_2tcSA=", signature.AnchorSignature);
    }

    [Fact]
    public void DuringARotationEachKeySignsTheStandardHeaderAndOnlyTheNewOneSignsTheAnchorHeader()
    {
        var previous = Enumerable.Range(100, 32).Select(i => (byte)i).ToArray();
        byte[] signed = [.. Encoding.ASCII.GetBytes("msg_2b7f.1767225600."), .. Body];
        var fromNew = "v1," + Convert.ToBase64String(HMACSHA256.HashData(Key, signed));
        var fromPrevious = "v1," + Convert.ToBase64String(HMACSHA256.HashData(previous, signed));

        var signature = WebhookSigner.Sign([Key, previous], MessageId, Timestamp, Body);

        // The new one is repeated last for verifiers that skip the last entry of the list.
        Assert.Equal($"{fromNew} {fromPrevious} {fromNew}", signature.StandardSignature);
        Assert.Equal(WebhookSigner.Sign(Key, MessageId, Timestamp, Body).AnchorSignature, signature.AnchorSignature);
    }

    [Fact]
    public void TheStandardSignatureIsV1AndBase64OfTheMacOverIdDotTimestampDotBody()
    {
        var signed = Mac("msg_2b7f.1767225600.");

        var signature = WebhookSigner.Sign(Key, MessageId, Timestamp, Body);

        Assert.Equal("v1," + Convert.ToBase64String(signed), signature.StandardSignature);
        Assert.Equal("v1,m6oubgtgueCzNaXtv4ylP9nXhXbSsD/s2F0oZXGPLMU=", signature.StandardSignature);
    }

    [Fact]
    public void TheStandardSignatureReproducesTheStandardWebhooksPublishedVector()
    {
        var key = Convert.FromBase64String("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");

        var signature = WebhookSigner.Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, """{"test": 2432232314}"""u8);

        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature.StandardSignature);
    }

    [Fact]
    public void TheTimestampIsUnixSecondsInPlainDigitsAndTheIdIsKept()
    {
        var signature = WebhookSigner.Sign(Key, MessageId, Timestamp, Body);

        Assert.Equal("1767225600", signature.Timestamp);
        Assert.Equal(MessageId, signature.MessageId);
    }

    [Fact]
    public void ATamperedBodyFailsBothSignatures()
    {
        var tampered = Body.ToArray();
        tampered[^3] ^= 1;

        var original = WebhookSigner.Sign(Key, MessageId, Timestamp, Body);
        var forged = WebhookSigner.Sign(Key, MessageId, Timestamp, tampered);

        Assert.NotEqual(original.AnchorSignature, forged.AnchorSignature);
        Assert.NotEqual(original.StandardSignature, forged.StandardSignature);
    }

    [Fact]
    public void AnotherIdChangesOnlyTheStandardSignature()
    {
        var first = WebhookSigner.Sign(Key, MessageId, Timestamp, Body);
        var second = WebhookSigner.Sign(Key, "msg_other", Timestamp, Body);

        Assert.Equal(first.AnchorSignature, second.AnchorSignature);
        Assert.NotEqual(first.StandardSignature, second.StandardSignature);
    }

    [Fact]
    public void ApplySetsTheFiveHeadersAsSignedReplacingEarlierOnes()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://example.com/hooks");
        WebhookSigner.Apply(request.Headers, WebhookSigner.Sign(Key, "msg_old", 1, Body));
        var signature = WebhookSigner.Sign(Key, MessageId, Timestamp, Body);

        WebhookSigner.Apply(request.Headers, signature);

        Assert.Equal(["1767225600"], request.Headers.GetValues("X-Timestamp"));
        Assert.Equal([signature.AnchorSignature], request.Headers.GetValues("X-Signature"));
        Assert.Equal([MessageId], request.Headers.GetValues("webhook-id"));
        Assert.Equal(["1767225600"], request.Headers.GetValues("webhook-timestamp"));
        Assert.Equal([signature.StandardSignature], request.Headers.GetValues("webhook-signature"));
    }

    private static byte[] Mac(string signedPrefix)
    {
        byte[] message = [.. Encoding.ASCII.GetBytes(signedPrefix), .. Body];
        return HMACSHA256.HashData(Key, message);
    }

    [Theory]
    [InlineData("msg 1")]
    [InlineData("msg\r\nX-Injected: 1")]
    public void AMessageIdThatCannotGoIntoAHeaderIsRefused(string messageId) =>
        Assert.Throws<ArgumentException>(() => WebhookSigner.Sign(Key, messageId, Timestamp, Body));
}
