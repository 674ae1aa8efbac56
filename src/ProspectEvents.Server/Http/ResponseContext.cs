using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json.Serialization;

namespace ProspectEvents.Server.Http;

/// <summary>
/// The envelope every successful response carries (Explorium's <c>response_context</c>). The anchor renamed the timing
/// field in v2: v1 responses say <c>time_took_in_seconds</c>, v2 ones <c>time_taken_in_seconds</c>, never both.
/// </summary>
public sealed record ResponseContext(
    string CorrelationId,
    string RequestStatus,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description("v1 responses.")] double? TimeTookInSeconds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description("v2 responses.")] double? TimeTakenInSeconds = null)
{
    /// <summary>The context of the current request, timed from when it arrived, named for the API version of its path.</summary>
    public static ResponseContext For(HttpContext http)
    {
        var seconds = Math.Round(Stopwatch.GetElapsedTime(http.RequestStartTimestamp()).TotalSeconds, 6);
        return IsV2(http) ? new(http.CorrelationId(), "success", null, seconds) : new(http.CorrelationId(), "success", seconds);
    }

    public static bool IsV2(HttpContext http) => http.Request.Path.StartsWithSegments("/v2", StringComparison.Ordinal);
}
