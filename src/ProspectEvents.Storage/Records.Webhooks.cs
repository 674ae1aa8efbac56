namespace ProspectEvents.Storage;

/// <summary>A partner's webhook as stored. <see cref="Secret"/> is the 32-byte key both signature schemes use.</summary>
public sealed record WebhookRecord(
    string PartnerId,
    string WebhookUrl,
    byte[] Secret,
    IReadOnlyList<string> Headers,
    string PayloadFormat,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? DisabledAt,
    string? DisabledReason,
    DateTimeOffset? FailingSince)
{
    public bool Enabled => DisabledAt is null;
}

/// <summary>What a registration asks for, already validated.</summary>
public sealed record WebhookRegistration(string WebhookUrl, byte[] Secret, IReadOnlyList<string> Headers, string PayloadFormat);

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
public sealed record ClaimedDelivery(
    long DeliveryPk,
    string DeliveryId,
    string PartnerId,
    string EnrollmentKey,
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

/// <summary>Delivery backlog of one partner, for the operator's stats.</summary>
public sealed record DeliveryBacklog(string PartnerId, long Pending, long Failed, DateTimeOffset? OldestDueAt, bool? WebhookEnabled);
