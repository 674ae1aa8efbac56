using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ProspectEvents.Server.Webhooks;

namespace ProspectEvents.Server.Cli;

/// <summary>What <c>listen</c> made of one delivery's signatures: each scheme verified with one of its secrets, in time.</summary>
public readonly record struct SignatureCheck(bool Anchor, bool Standard)
{
    public bool Valid => Anchor && Standard;
}

/// <summary>
/// Verifies both signature schemes of a delivery (docs/webhooks.md) by signing the received body again with
/// <see cref="WebhookSigner"/> and comparing in fixed time. Several secrets (a rotation's old and new) are all tried, and
/// a <c>webhook-signature</c> with several entries verifies when any entry matches, as Standard Webhooks verifiers do.
/// </summary>
public sealed class DeliveryVerifier(IReadOnlyList<byte[]> keys, TimeProvider time)
{
    /// <summary>How far a signed timestamp may be from this clock, as Standard Webhooks libraries allow.</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    public SignatureCheck Check(Func<string, string?> header, byte[] body)
    {
        ArgumentNullException.ThrowIfNull(header);
        var anchorTime = Fresh(header(WebhookSigner.TimestampHeader));
        var anchorSignature = header(WebhookSigner.SignatureHeader);
        // The anchor's signature does not cover an id; any visible one serves to call the signer.
        var anchor = anchorTime is { } at && anchorSignature is not null
            && keys.Any(k => SameText(WebhookSigner.Sign(k, "anchor", at, body).AnchorSignature, anchorSignature));

        var id = header(WebhookSigner.StandardIdHeader);
        var standardTime = Fresh(header(WebhookSigner.StandardTimestampHeader));
        var entries = header(WebhookSigner.StandardSignatureHeader)?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
        var standard = standardTime is { } st && IsVisibleAscii(id) && entries.Length > 0
            && keys.Any(k =>
            {
                var expected = WebhookSigner.Sign(k, id!, st, body).StandardSignature;
                return entries.Any(e => SameText(e, expected));
            });
        return new SignatureCheck(anchor, standard);
    }

    /// <summary>The timestamp when it is Unix seconds within <see cref="Tolerance"/> of now; null otherwise (stale, future or no number).</summary>
    private long? Fresh(string? text)
    {
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return null;
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        return Math.Abs(now - seconds) <= Tolerance.TotalSeconds ? seconds : null;
    }

    private static bool IsVisibleAscii(string? text) => !string.IsNullOrEmpty(text) && text.All(c => c is > ' ' and <= '~');

    private static bool SameText(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
