using Microsoft.Extensions.Logging;

namespace ProspectEvents.Storage;

/// <summary>The storage's log messages, source-generated, with stable event ids (100 and up; the server's are below).</summary>
internal static partial class StoreLog
{
    [LoggerMessage(101, LogLevel.Warning, "A background WAL checkpoint failed; it is retried after the next commit on a new connection")]
    public static partial void CheckpointFailed(ILogger logger, Exception exception);

    [LoggerMessage(105, LogLevel.Debug, "SQLite {Version} in {Mode} mode")]
    public static partial void SqliteLibrary(ILogger logger, string version, string mode);
}
