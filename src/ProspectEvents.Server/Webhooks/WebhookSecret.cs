using System.Security.Cryptography;

namespace ProspectEvents.Server.Webhooks;

/// <summary>
/// A partner's webhook secret: 32 random bytes, shown in two text forms of the same key so anchor clients and
/// Standard Webhooks libraries can both verify deliveries.
/// </summary>
public static class WebhookSecret
{
    public const int Size = 32;

    /// <summary>Prefix Standard Webhooks libraries expect before the base64 key (they strip it before decoding).</summary>
    public const string StandardPrefix = "whsec_";

    public static byte[] New() => RandomNumberGenerator.GetBytes(Size);

    /// <summary>
    /// <c>webhook_secret</c>: base64url with its padding kept, as the anchor returns it. Written out by hand because
    /// <see cref="System.Buffers.Text.Base64Url"/> always drops the padding.
    /// </summary>
    public static string ToAnchorText(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ToBase64UrlPadded(key);
    }

    /// <summary><c>standard_webhooks_secret</c>: <c>whsec_</c> and standard base64, padded.</summary>
    public static string ToStandardText(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return StandardPrefix + Convert.ToBase64String(key);
    }

    /// <summary>The key back from either text form, as the API shows it: <c>webhook_secret</c> (base64url, padded or not) or <c>standard_webhooks_secret</c> (<c>whsec_</c>).</summary>
    public static bool TryParse(string? text, out byte[] key)
    {
        key = [];
        if (string.IsNullOrWhiteSpace(text)) return false;
        var base64 = text.StartsWith(StandardPrefix, StringComparison.Ordinal)
            ? text[StandardPrefix.Length..]
            : text.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
        try
        {
            key = Convert.FromBase64String(base64);
            return key.Length > 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    internal static string ToBase64UrlPadded(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_');
}
