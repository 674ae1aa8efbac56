using System.Diagnostics;

namespace ProspectEvents.Server.Http;

/// <summary>
/// Gives each request a correlation id (the caller's <c>X-Correlation-ID</c> when it is sane, else a new one),
/// returns it in the response header, puts it in every log line of the request, and logs the request once done.
/// </summary>
public sealed class CorrelationMiddleware(RequestDelegate next, ILogger<CorrelationMiddleware> logger)
{
    public const string Header = "X-Correlation-ID";
    private const string IdKey = "correlation_id";
    private const string StartKey = "request_start";

    public async Task InvokeAsync(HttpContext http)
    {
        var start = Stopwatch.GetTimestamp();
        var id = http.Request.Headers[Header].ToString() is { Length: > 0 and <= 64 } given && given.All(IsIdChar) ? given : Ids.NewCorrelationId();
        http.Items[IdKey] = id;
        http.Items[StartKey] = start;
        http.Response.Headers[Header] = id;

        using (logger.BeginScope(new Dictionary<string, object> { ["CorrelationId"] = id }))
        {
            try
            {
                await next(http);
            }
            finally
            {
                Log.RequestFinished(logger, http.Request.Method, http.Request.Path, http.Response.StatusCode, Stopwatch.GetElapsedTime(start).TotalMilliseconds, id);
            }
        }
    }

    private static bool IsIdChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';

    internal static string IdOf(HttpContext http) => http.Items[IdKey] as string ?? Ids.NewCorrelationId();
    internal static long StartOf(HttpContext http) => http.Items[StartKey] is long start ? start : Stopwatch.GetTimestamp();
}

public static class CorrelationExtensions
{
    public static string CorrelationId(this HttpContext http) => CorrelationMiddleware.IdOf(http);
    public static long RequestStartTimestamp(this HttpContext http) => CorrelationMiddleware.StartOf(http);
}
