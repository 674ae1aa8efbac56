using Microsoft.Extensions.Logging;

namespace ProspectEvents.Storage;

/// <summary>The storage's log messages, source-generated, with stable event ids (100 and up; the server's are below).</summary>
internal static partial class StoreLog
{
    [LoggerMessage(101, LogLevel.Warning, "A background WAL checkpoint failed; it is retried after the next commit on a new connection")]
    public static partial void CheckpointFailed(ILogger logger, Exception exception);

    [LoggerMessage(102, LogLevel.Warning, "Reading states ahead of an ingest batch failed; the batch reads them itself")]
    public static partial void ReadAheadFailed(ILogger logger, Exception exception);

    [LoggerMessage(103, LogLevel.Warning, "Compacting the observation log failed; the cache is reloaded and the next batch tries again")]
    public static partial void CompactionFailed(ILogger logger, Exception exception);

    [LoggerMessage(104, LogLevel.Warning, "Reclaiming superseded states failed; the next batch tries again")]
    public static partial void ReclaimFailed(ILogger logger, Exception exception);
}
