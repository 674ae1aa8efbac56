using System.Text.Json;

namespace ProspectEvents.Server.Http;

/// <summary>Reads a JSON request body within the size limit, turning the two ways it can fail into 413 and 422.</summary>
public static class RequestBody
{
    /// <summary>Largest JSON body the partner API accepts (bulk ingest has its own, streamed, endpoint).</summary>
    public const long MaxBytes = 1024 * 1024;

    /// <summary>Whether the request has no body at all (no length, or length 0, and not chunked): where a body is optional.</summary>
    public static bool IsAbsent(HttpContext http) =>
        http.Request.ContentLength == 0 || (http.Request.ContentLength is null && !http.Request.Headers.TransferEncoding.Any(v => v?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true));

    public static async Task<(JsonDocument? Document, ApiError? Error)> ReadAsync(HttpContext http, CancellationToken cancellationToken)
    {
        if (http.Request.ContentLength > MaxBytes) return (null, ApiError.BodyTooLarge());
        try
        {
            // Kestrel enforces MaxBytes on chunked bodies too (see KestrelLimits), throwing mid-read.
            var document = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: cancellationToken);
            if (JsonText.FindNotText(document.RootElement) is not { } notText) return (document, null);
            document.Dispose();
            return (null, ApiError.Validation(notText));
        }
        catch (BadHttpRequestException e)
        {
            return (null, ApiError.FromBadRequest(e));
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" at line {line + 1}, position {e.BytePositionInLine + 1}" : "";
            return (null, ApiError.Validation(new ValidationError(["body"], $"JSON decode error{where}", "json_invalid")));
        }
    }
}
