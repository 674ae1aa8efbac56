using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace ProspectEvents.Server.Webhooks;

/// <summary>The header values that sign one delivery attempt under both schemes.</summary>
public readonly record struct WebhookSignature(string MessageId, string Timestamp, string AnchorSignature, string StandardSignature);

/// <summary>
/// Signs a delivery under both schemes from one key (docs/webhooks.md): the anchor's <c>X-Timestamp</c>/<c>X-Signature</c> over
/// <c>"{timestamp}.{body}"</c>, and Standard Webhooks' <c>webhook-*</c> headers over <c>"{id}.{timestamp}.{body}"</c>.
/// The MAC runs over the body's exact bytes: re-encoding them through a string could change what the receiver hashes.
/// </summary>
public static class WebhookSigner
{
    public const string TimestampHeader = "X-Timestamp";
    public const string SignatureHeader = "X-Signature";
    public const string StandardIdHeader = "webhook-id";
    public const string StandardTimestampHeader = "webhook-timestamp";
    public const string StandardSignatureHeader = "webhook-signature";

    /// <summary>Version tag Standard Webhooks puts before an HMAC-SHA256 signature.</summary>
    public const string StandardVersionPrefix = "v1,";

    /// <param name="messageId">The delivery's <c>webhook-id</c>; the same on every retry so receivers can deduplicate.
    /// Visible ASCII only: it goes into a header and into the signed text.</param>
    public static WebhookSignature Sign(byte[] key, string messageId, long unixSeconds, ReadOnlySpan<byte> body) =>
        Sign([key], messageId, unixSeconds, body);

    /// <summary>
    /// Signs with every key of <paramref name="keys"/> (a rotation's overlap: the new one first): <c>X-Signature</c> with
    /// the first only, as the anchor has one secret; <c>webhook-signature</c> with each, space-separated, as Standard
    /// Webhooks allows, so a receiver holding either secret verifies (the first is listed again last, see below).
    /// </summary>
    public static WebhookSignature Sign(IReadOnlyList<byte[]> keys, string messageId, long unixSeconds, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentOutOfRangeException.ThrowIfZero(keys.Count);
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        if (!messageId.All(c => c is > ' ' and <= '~'))
            throw new ArgumentException("A webhook message id must be visible ASCII without spaces.", nameof(messageId));

        Span<byte> timestamp = stackalloc byte[20];
        unixSeconds.TryFormat(timestamp, out var timestampLength, default, CultureInfo.InvariantCulture);
        timestamp = timestamp[..timestampLength];

        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        string? anchor = null, first = null;
        var standard = new StringBuilder();
        foreach (var key in keys)
        {
            ArgumentNullException.ThrowIfNull(key);
            using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
            if (anchor is null)
            {
                hmac.AppendData(timestamp);
                hmac.AppendData("."u8);
                hmac.AppendData(body);
                hmac.GetHashAndReset(mac);
                anchor = WebhookSecret.ToBase64UrlPadded(mac);
            }

            AppendAscii(hmac, messageId);
            hmac.AppendData("."u8);
            hmac.AppendData(timestamp);
            hmac.AppendData("."u8);
            hmac.AppendData(body);
            hmac.GetHashAndReset(mac);
            var signature = StandardVersionPrefix + Convert.ToBase64String(mac);
            standard.Append(first is null ? "" : " ").Append(signature);
            first ??= signature;
        }
        // The StandardWebhooks NuGet package (1.1.2) never compares the last of several signatures. Repeating the first
        // at the end lets it check every real one; verifiers that read the list correctly just see a duplicate.
        if (keys.Count > 1) standard.Append(' ').Append(first);

        return new WebhookSignature(messageId, Encoding.ASCII.GetString(timestamp), anchor!, standard.ToString());
    }

    /// <summary>Sets the five signature headers, replacing any earlier values (a retry reuses its request headers).</summary>
    public static void Apply(HttpRequestHeaders headers, WebhookSignature signature)
    {
        ArgumentNullException.ThrowIfNull(headers);
        Set(headers, TimestampHeader, signature.Timestamp);
        Set(headers, SignatureHeader, signature.AnchorSignature);
        Set(headers, StandardIdHeader, signature.MessageId);
        Set(headers, StandardTimestampHeader, signature.Timestamp);
        Set(headers, StandardSignatureHeader, signature.StandardSignature);
    }

    private static void Set(HttpRequestHeaders headers, string name, string value)
    {
        headers.Remove(name);
        // Without validation: base64 '=' and the "v1," comma must reach the wire exactly as signed.
        headers.TryAddWithoutValidation(name, value);
    }

    private static void AppendAscii(IncrementalHash hmac, string text)
    {
        byte[]? rented = null;
        Span<byte> bytes = text.Length <= 256 ? stackalloc byte[text.Length] : (rented = ArrayPool<byte>.Shared.Rent(text.Length));
        try
        {
            var length = Encoding.ASCII.GetBytes(text, bytes);
            hmac.AppendData(bytes[..length]);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
