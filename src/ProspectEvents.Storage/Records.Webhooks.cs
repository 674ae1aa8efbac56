namespace ProspectEvents.Storage;

/// <summary>
/// A webhook as stored (Migrations/*/0010_webhooks_as_resources.sql). <see cref="Secret"/> is the 32-byte key both
/// signature schemes use; <see cref="PreviousSecret"/> signs beside it until <see cref="PreviousSecretUntil"/> after a
/// rotation. <see cref="Legacy"/>: the partner's v1 webhook; <see cref="RemovedAt"/> set means it is not registered.
/// </summary>
public sealed record WebhookRecord(
    string WebhookId,
    string PartnerId,
    bool Legacy,
    string Name,
    string? Description,
    string WebhookUrl,
    byte[] Secret,
    byte[]? PreviousSecret,
    DateTimeOffset? PreviousSecretUntil,
    IReadOnlyList<string> Headers,
    string PayloadFormat,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? DisabledAt,
    string? DisabledReason,
    DateTimeOffset? FailingSince,
    DateTimeOffset? RemovedAt)
{
    public bool Enabled => DisabledAt is null;

    /// <summary>The keys that sign a delivery at <paramref name="now"/>: the current secret first, then the previous one during its overlap.</summary>
    public IReadOnlyList<byte[]> SigningKeys(DateTimeOffset now) =>
        PreviousSecret is { } previous && PreviousSecretUntil > now ? [Secret, previous] : [Secret];
}

/// <summary>What a registration asks for, already validated.</summary>
public sealed record WebhookRegistration(string WebhookUrl, byte[] Secret, IReadOnlyList<string> Headers, string PayloadFormat);

/// <summary>A v2 webhook to create, already validated.</summary>
public sealed record WebhookSpec(string Name, string? Description, string WebhookUrl, IReadOnlyList<string> Headers, string PayloadFormat, byte[] Secret);

/// <summary>
/// A v2 partial update: null fields are left as they are. <see cref="Enable"/>: true enables (and forgets the failure
/// streak), false disables, null leaves the status.
/// </summary>
public sealed record WebhookPatch(string? Name, string? Description, string? WebhookUrl, IReadOnlyList<string>? Headers, string? PayloadFormat, bool? Enable);

/// <summary>How a write addressed to one v2 webhook ended; <see cref="Webhook"/> is set when it was applied.</summary>
public enum WebhookWrite { Done, NotFound, Legacy, NameTaken, LimitReached, InUse }

/// <summary>The outcome of a v2 webhook write, with the webhook as it is after it, or the enrollments that stopped it.</summary>
public sealed record WebhookWriteResult(WebhookWrite Outcome, WebhookRecord? Webhook = null, IReadOnlyList<string>? Enrollments = null);

/// <summary>Limits of the webhook model shared by both API versions.</summary>
public static class WebhookModel
{
    /// <summary>Webhooks a partner may have, the legacy one included (the anchor's limit).</summary>
    public const int MaxPerPartner = 10;

    /// <summary>The name the legacy webhook shows in v2; v2 names are unique among the partner's other webhooks.</summary>
    public const string LegacyName = "v1";
}

/// <summary>Delivery states: <c>pending</c> until a 2xx (<c>delivered</c>) or the end of the schedule (<c>failed</c>).</summary>
public static class DeliveryStatus
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";

    public static readonly IReadOnlyList<string> All = [Pending, Delivered, Failed];
}

/// <summary>
/// A delivery claimed by a dispatcher, with what it needs to send it: the event, the webhook and the lease it holds
/// (<see cref="LeaseUntil"/>, in Unix ms: the delivery's next_attempt_at while claimed).
/// </summary>
/// <param name="EnrollmentId">Set for a v2 enrollment's delivery, whose payload names it (and the webhook); null for v1.</param>
public sealed record ClaimedDelivery(
    long DeliveryPk,
    string DeliveryId,
    string PartnerId,
    string EnrollmentKey,
    string? EnrollmentId,
    int Attempts,
    int ScheduleBase,
    long LeaseUntil,
    StoredEvent Event,
    WebhookRecord Webhook)
{
    /// <summary>Attempts made in the current round of the retry schedule (a replay starts a new round).</summary>
    public int AttemptsThisRound => Attempts - ScheduleBase;
}

/// <summary>How one attempt went, to record.</summary>
/// <param name="Next">When to try again; null with <see cref="Delivered"/> false means the schedule is exhausted.</param>
/// <param name="DisableWebhook">A reason to disable the webhook now (the receiver answered 410 Gone), or null.</param>
public sealed record AttemptOutcome(
    ClaimedDelivery Delivery,
    DateTimeOffset AttemptedAt,
    TimeSpan Duration,
    int? StatusCode,
    string? Error,
    string? Response,
    bool Delivered,
    DateTimeOffset? Next,
    string? DisableWebhook);

/// <summary>One attempt as logged.</summary>
public sealed record DeliveryAttempt(int Attempt, DateTimeOffset AttemptedAt, long DurationMs, int? StatusCode, string? Error, string? Response);

/// <summary>A delivery as the delivery log shows it; <see cref="LastAttempt"/> is null before the first attempt.</summary>
public sealed record DeliveryView(
    string DeliveryId,
    string EventId,
    string EventName,
    string ProspectId,
    string EnrollmentKey,
    string Status,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? FinishedAt,
    DeliveryAttempt? LastAttempt);

/// <summary>Delivery backlog of one webhook, for the operator's stats; <see cref="WebhookEnabled"/> null: not registered (or deleted).</summary>
public sealed record DeliveryBacklog(string PartnerId, string WebhookId, long Pending, long Failed, DateTimeOffset? OldestDueAt, bool? WebhookEnabled);
