namespace ProspectEvents.Server.Dashboard;

/// <summary>
/// The operator page at <c>/dashboard</c>: a static HTML page, its stylesheet and script, embedded in the server. The
/// page holds no data: its script reads the admin API with the key the operator types in.
/// </summary>
public static class DashboardPage
{
    /// <summary>
    /// Only this server's own files, no inline script or style, no framing: a page that holds an admin key must not
    /// run anything else.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

    private static readonly (string Route, string File, string ContentType)[] Assets =
    [
        ("/dashboard", "dashboard.html", "text/html; charset=utf-8"),
        ("/dashboard/dashboard.css", "dashboard.css", "text/css; charset=utf-8"),
        ("/dashboard/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"),
    ];

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder routes)
    {
        foreach (var (route, file, contentType) in Assets)
        {
            var bytes = Read(file);
            routes.MapGet(route, (HttpContext http) =>
            {
                var headers = http.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                headers.CacheControl = "no-store";
                return TypedResults.Bytes(bytes, contentType);
            }).ExcludeFromDescription();
        }
        return routes;
    }

    private static byte[] Read(string file)
    {
        using var stream = typeof(DashboardPage).Assembly.GetManifestResourceStream($"Dashboard/{file}")
            ?? throw new InvalidOperationException($"The dashboard asset {file} is not embedded in the server.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
