using System.Diagnostics;

namespace ProspectEvents.Server.Http;

/// <summary>The envelope every successful response carries (Explorium's <c>response_context</c>).</summary>
public sealed record ResponseContext(string CorrelationId, string RequestStatus, double TimeTookInSeconds)
{
    /// <summary>The context of the current request, timed from when it arrived.</summary>
    public static ResponseContext For(HttpContext http) =>
        new(http.CorrelationId(), "success", Math.Round(Stopwatch.GetElapsedTime(http.RequestStartTimestamp()).TotalSeconds, 6));
}
