namespace ProspectEvents.Storage;

/// <summary>A live (not revoked) API key as stored: only the hash of the secret.</summary>
public sealed record ApiKeyRecord(string KeyId, string PartnerId, KeyScope Scope, byte[] KeyHash);

/// <summary>A newly issued key; the secret exists only here and in the caller's hands.</summary>
public sealed record IssuedKey(string KeyId, string PartnerId, KeyScope Scope, string Secret);

/// <summary>An enrollment with the prospects it currently monitors (expired ones left out), as hex ids.</summary>
public sealed record Enrollment(string EnrollmentId, string EnrollmentKey, EventTypes EventTypes, List<string> ProspectIds);

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
