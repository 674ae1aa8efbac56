namespace ProspectEvents.Storage;

/// <summary>A live (not revoked) API key as stored: only the hash of the secret.</summary>
public sealed record ApiKeyRecord(string KeyId, string PartnerId, KeyScope Scope, byte[] KeyHash);

/// <summary>A newly issued key; the secret exists only here and in the caller's hands.</summary>
public sealed record IssuedKey(string KeyId, string PartnerId, KeyScope Scope, string Secret);

/// <summary>An enrollment with the prospects it currently monitors (expired ones left out), as hex ids.</summary>
/// <param name="WebhookId">The webhook it delivers to: its own (v2) or the partner's legacy one (v1; null when not registered).</param>
/// <param name="Status"><c>active</c>, or <c>paused</c> when its webhook was force-deleted.</param>
public sealed record Enrollment(string EnrollmentId, string EnrollmentKey, EventTypes EventTypes, List<string> ProspectIds, string? WebhookId, string Status);

/// <summary>Enrollment states: a <c>paused</c> one is kept but matches no event.</summary>
public static class EnrollmentStatus
{
    public const string Active = "active";
    public const string Paused = "paused";
}

/// <summary>What a partner asks to monitor, already validated.</summary>
/// <param name="ExpiresAt">When the listed prospects stop being monitored; null for never.</param>
public sealed record EnrollmentRequest(string EnrollmentKey, EventTypes EventTypes, IReadOnlyList<string> ProspectIds, DateTimeOffset? ExpiresAt);

public enum ReplaceOutcome
{
    Replaced,
    NotFound,

    /// <summary>The new enrollment_key already names another enrollment of the same partner.</summary>
    KeyTaken,
}

/// <summary>How a v2 enrollment write ended.</summary>
public enum EnrollmentWrite
{
    Created,
    Added,
    Updated,
    NotFound,

    /// <summary>No registered webhook has the id (404).</summary>
    WebhookNotFound,

    /// <summary>The webhook is another partner's, or not active (422).</summary>
    WebhookUnusable,

    /// <summary>The enrollment_key names an enrollment bound to another webhook (409).</summary>
    WebhookConflict,

    /// <summary>The new enrollment_key already names another enrollment of the same partner (409).</summary>
    KeyTaken,
}

/// <summary>A v2 enrollment write's outcome, with the enrollment as it is after it when it was applied.</summary>
public sealed record EnrollmentWriteResult(EnrollmentWrite Outcome, string? EnrollmentId = null, string? EnrollmentKey = null, string? WebhookId = null, string? Status = null);

/// <summary>A v2 partial update of an enrollment, validated; null fields stay as they are. New prospects replace the old ones.</summary>
public sealed record EnrollmentPatch(string? EnrollmentKey, string? WebhookId, EventTypes? EventTypes, IReadOnlyList<string>? ProspectIds);
