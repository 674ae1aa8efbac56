namespace ProspectEvents.Server;

/// <summary>Every log message of the server, source-generated, with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "HTTP {Method} {Path} responded {StatusCode} in {ElapsedMs:0.000} ms (correlation {CorrelationId})")]
    public static partial void RequestFinished(ILogger logger, string method, string path, int statusCode, double elapsedMs, string correlationId);

    [LoggerMessage(2, LogLevel.Error, "Unhandled error (correlation {CorrelationId})")]
    public static partial void UnhandledError(ILogger logger, Exception exception, string correlationId);

    [LoggerMessage(3, LogLevel.Information, "Applied migration {Migration} ({Provider})")]
    public static partial void MigrationApplied(ILogger logger, string migration, string provider);

    [LoggerMessage(4, LogLevel.Warning, "Created partner 'default' ({PartnerId}) with an admin key on first start; the key was printed to stdout")]
    public static partial void DefaultPartnerCreated(ILogger logger, string partnerId);

    [LoggerMessage(5, LogLevel.Information, "Anniversary sweep of {Day} added {Events} events")]
    public static partial void AnniversariesSwept(ILogger logger, DateOnly day, int events);

    [LoggerMessage(6, LogLevel.Error, "Anniversary sweep failed; retrying in a minute")]
    public static partial void AnniversarySweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(7, LogLevel.Error, "Fan-out indexing pass failed; retrying in a second")]
    public static partial void EnrollmentIndexingFailed(ILogger logger, Exception exception);

    [LoggerMessage(8, LogLevel.Error, "Claiming webhook deliveries failed; retrying in a second")]
    public static partial void DeliveryClaimFailed(ILogger logger, Exception exception);

    [LoggerMessage(9, LogLevel.Warning, "Delivery {DeliveryId} of event {EventId} to partner {PartnerId} failed on attempt {Attempt}: {Problem}; next attempt {NextAttempt}")]
    public static partial void DeliveryAttemptFailed(ILogger logger, string deliveryId, string eventId, string partnerId, int attempt, string problem, DateTimeOffset? nextAttempt);

    [LoggerMessage(10, LogLevel.Error, "Delivery {DeliveryId} of event {EventId} could not be attempted; it is retried when its lease ends")]
    public static partial void DeliveryAttemptCrashed(ILogger logger, Exception exception, string deliveryId, string eventId);

    [LoggerMessage(11, LogLevel.Error, "Recording {Count} delivery attempts failed with an error a retry cannot fix; recording them one by one")]
    public static partial void DeliveryRecordFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(12, LogLevel.Warning, "Disabled webhook {WebhookId} of partner {PartnerId}: {Reason}")]
    public static partial void WebhookDisabled(ILogger logger, string webhookId, string partnerId, string reason);

    [LoggerMessage(13, LogLevel.Error, "Gave up recording an attempt of delivery {DeliveryId} (event {EventId}); it is sent again when its lease ends")]
    public static partial void DeliveryRecordDropped(ILogger logger, string deliveryId, string eventId);

    [LoggerMessage(14, LogLevel.Warning, "HTTP {Method} {Path} was refused for the client's fault: {Problem} (correlation {CorrelationId})")]
    public static partial void ClientFault(ILogger logger, string method, string path, string problem, string correlationId);

    [LoggerMessage(15, LogLevel.Warning, "Ingest stopped, answered 422: {Error}; {Observations} observations taken before it (correlation {CorrelationId})")]
    public static partial void IngestInputBroke(ILogger logger, string error, long observations, string correlationId);

    [LoggerMessage(16, LogLevel.Warning, "Claiming webhook deliveries hit a transient database error; retrying in {Delay}")]
    public static partial void DeliveryClaimDeferred(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(17, LogLevel.Warning, "Recording {Count} delivery attempts hit a transient database error; retrying in {Delay}")]
    public static partial void DeliveryRecordDeferred(ILogger logger, Exception exception, int count, TimeSpan delay);

    [LoggerMessage(18, LogLevel.Error, "The attempt of delivery {DeliveryId} (event {EventId}) cannot be recorded; the delivery is set {Status} without it")]
    public static partial void DeliveryIsolated(ILogger logger, Exception exception, string deliveryId, string eventId, string status);

    [LoggerMessage(19, LogLevel.Information, "Released the ingest's prospect cache after {Idle} without a batch; the next batch loads it again")]
    public static partial void IngestCacheReleased(ILogger logger, TimeSpan idle);

    [LoggerMessage(170, LogLevel.Warning, "The database schema is at migration {SchemaVersion}, newer than this build knows ({KnownVersion}): this process (roles {Roles}) stops its ingest and scheduled jobs, and /readyz answers 503 if it ran any. Replace it with the newer build")]
    public static partial void ProcessOutdated(ILogger logger, int schemaVersion, int knownVersion, string roles);

    [LoggerMessage(171, LogLevel.Warning, "Process {ProcessId} on {Host} (pid {Pid}, roles {Roles}) runs an older build that knows migrations up to {ItsVersion}, this one {KnownVersion}: {What}; this process goes on. Replace it with this build")]
    public static partial void OlderProcessBeside(ILogger logger, string processId, string host, int pid, string roles, int itsVersion, int knownVersion, string what);

    [LoggerMessage(172, LogLevel.Information, "Process {ProcessId} on {Host} (pid {Pid}) ingests with fingerprint version {ItsVersion}, this one {Version}: while both ingest, each reloads its prospect cache from the states instead of the log")]
    public static partial void OtherFingerprintBeside(ILogger logger, string processId, string host, int pid, int itsVersion, int version);

    [LoggerMessage(173, LogLevel.Warning, "The process registry heartbeat failed; retrying at the next beat")]
    public static partial void HeartbeatFailed(ILogger logger, Exception exception);

    [LoggerMessage(174, LogLevel.Warning, "Removing this process from the process registry failed; its row ages out after three missed beats")]
    public static partial void ProcessNotRemoved(ILogger logger, Exception exception);

    [LoggerMessage(175, LogLevel.Information, "Process {ProcessId} runs roles {Roles} (build {Build}, schema {KnownVersion})")]
    public static partial void ProcessStarted(ILogger logger, string processId, string roles, string build, int knownVersion);

    [LoggerMessage(30, LogLevel.Warning, "Recording the ingest run for the operator page failed; the ingest itself is committed")]
    public static partial void IngestRunNotRecorded(ILogger logger, Exception exception);

    [LoggerMessage(50, LogLevel.Information, "Retention pass deleted {Events} events from before {Cutoff} (Events:RetentionDays {Days}) and their {Deliveries} deliveries, {Expired} of which expired undelivered")]
    public static partial void RetentionPassed(ILogger logger, DateTimeOffset cutoff, long events, long deliveries, long expired, int days);

    [LoggerMessage(51, LogLevel.Error, "Retention pass failed; it is taken over once it has stood still for half an hour")]
    public static partial void RetentionPassFailed(ILogger logger, Exception exception);

    // Ids from when storage ran ingest (its range is 100 and up), kept so that filters on them still match.
    [LoggerMessage(102, LogLevel.Warning, "Reading states ahead of an ingest batch failed; the batch reads them itself")]
    public static partial void ReadAheadFailed(ILogger logger, Exception exception);

    [LoggerMessage(103, LogLevel.Warning, "Compacting the observation log failed; the cache is reloaded and the next batch tries again")]
    public static partial void CompactionFailed(ILogger logger, Exception exception);

    [LoggerMessage(104, LogLevel.Warning, "Reclaiming superseded states failed; the next batch tries again")]
    public static partial void ReclaimFailed(ILogger logger, Exception exception);

    [LoggerMessage(60, LogLevel.Warning, "Rate limiting could not reach the database; this process limits each key on its own, as if alone, and asks again in {Wait}")]
    public static partial void RateLimitStoreFailed(ILogger logger, Exception exception, TimeSpan wait);

    [LoggerMessage(61, LogLevel.Information, "Rate limiting reaches the database again; keys are limited across processes")]
    public static partial void RateLimitStoreBack(ILogger logger);

    [LoggerMessage(40, LogLevel.Warning, "Reading the outbox for the telemetry gauges failed; they report nothing until a reading succeeds")]
    public static partial void OutboxGaugeFailed(ILogger logger, Exception exception);
}
