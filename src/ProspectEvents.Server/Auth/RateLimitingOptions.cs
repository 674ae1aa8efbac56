namespace ProspectEvents.Server.Auth;

/// <summary>The <c>RateLimiting</c> section: requests allowed per API key, and failed authentications per client address, in a sliding window.</summary>
public sealed class RateLimitingOptions
{
    public const string Section = "RateLimiting";

    public int PermitsPerWindow { get; set; } = 200;

    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Requests with a missing or unknown key one client address may make in a window; then 429 until the window frees one.</summary>
    public int FailedAuthPermitsPerWindow { get; set; } = 60;
}
