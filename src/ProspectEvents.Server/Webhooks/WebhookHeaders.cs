namespace ProspectEvents.Server.Webhooks;

/// <summary>
/// The custom <c>headers</c> of a webhook: <c>"Name: value"</c> lines sent with every delivery. Names the service
/// sets itself (signatures, content, connection) are refused, so a header can neither forge nor break a delivery.
/// </summary>
public static class WebhookHeaders
{
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade",
        "Expect", "TE", "Trailer", "Proxy-Connection", "User-Agent",
        WebhookSigner.TimestampHeader, WebhookSigner.SignatureHeader,
        WebhookSigner.StandardIdHeader, WebhookSigner.StandardTimestampHeader, WebhookSigner.StandardSignatureHeader,
    };

    /// <summary>Why <paramref name="line"/> is not an acceptable header line (message and pydantic type), or null.</summary>
    public static (string Msg, string Type)? Problem(string line)
    {
        if (line.Length > WebhookLimits.MaxHeaderLength) return ($"String should have at most {WebhookLimits.MaxHeaderLength} characters", "string_too_long");
        var colon = line.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0) return ("Value error, a header must look like 'Name: value'", "value_error");
        var name = line[..colon].Trim();
        if (name.Length == 0 || !name.All(IsTokenChar)) return ($"Value error, '{name}' is not a valid header name", "value_error");
        if (Reserved.Contains(name)) return ($"Value error, header '{name}' is set by the service and cannot be overridden", "value_error");
        if (line.AsSpan(colon + 1).ContainsAnyExcept(ValueChars))
            return ("Value error, a header value may hold only printable ASCII characters, spaces and tabs", "value_error");
        // Content-* and the like belong to the body, whose headers the service sets: a request refuses them.
        if (!new HttpRequestMessage().Headers.TryAddWithoutValidation(name, "x"))
            return ($"Value error, '{name}' describes the body and cannot be set", "value_error");
        return null;
    }

    // HTTP allows only these in a value (RFC 9110 field-vchar, SP, HTAB); anything else fails every delivery.
    private static readonly System.Buffers.SearchValues<char> ValueChars =
        System.Buffers.SearchValues.Create("\t " + string.Concat(Enumerable.Range(0x21, 0x7E - 0x21 + 1).Select(c => (char)c)));

    // RFC 9110 token characters.
    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);
}
