namespace ProspectEvents.Server.Auth;

/// <summary>The <c>RateLimiting</c> section: requests allowed per API key, and failed authentications per client address, in a sliding window.</summary>
public sealed class RateLimitingOptions
{
    public const string Section = "RateLimiting";

    /// <summary>The window slides by a tenth of itself, as permits taken in its oldest segment leave it.</summary>
    public const int SegmentsPerWindow = 10;

    // A process takes a key's permits from the store a twentieth of the limit at a time: one store write per chunk,
    // and at most a chunk per process unspent when its segment ends.
    private const int ChunksPerWindow = 20;

    public int PermitsPerWindow { get; set; } = 200;

    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Requests with a missing or unknown key one client address may make in a window; then 429 until the window frees one.</summary>
    public int FailedAuthPermitsPerWindow { get; set; } = 60;

    internal long SegmentMilliseconds => Math.Max(1, (long)Window.TotalMilliseconds / SegmentsPerWindow);

    internal int Chunk => Math.Max(1, PermitsPerWindow / ChunksPerWindow);
}
