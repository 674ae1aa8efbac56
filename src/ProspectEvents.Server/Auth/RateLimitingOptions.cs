namespace ProspectEvents.Server.Auth;

/// <summary>The <c>RateLimiting</c> section: requests allowed per API key in a sliding window.</summary>
public sealed class RateLimitingOptions
{
    public const string Section = "RateLimiting";

    public int PermitsPerWindow { get; set; } = 200;

    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(60);
}
