namespace ProspectEvents.Server.Ingest;

/// <summary>The <c>Ingest</c> section: limits of the bulk observation input (docs/api.md, "Bulk input").</summary>
public sealed class IngestOptions
{
    public const string Section = "Ingest";
    public const int DefaultMaxLineBytes = 1024 * 1024;

    /// <summary>
    /// The longest line (a CSV record: all its lines) taken, in bytes, without its line break. A longer one is rejected
    /// and skipped as it streams, so a runaway line costs this much memory, never its own size.
    /// </summary>
    public int MaxLineBytes { get; set; } = DefaultMaxLineBytes;

    /// <summary>How long the prospect cache stays in memory after the last batch began; zero keeps it for good.</summary>
    public TimeSpan CacheIdleTimeout { get; set; } = TimeSpan.FromMinutes(10);
}
