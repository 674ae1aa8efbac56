using System.Security.Cryptography;

namespace ProspectEvents;

/// <summary>Random public identifiers: a type prefix and 16 lowercase hex characters (64 random bits).</summary>
public static class Ids
{
    public const string EnrollmentPrefix = "en_";
    public const string PartnerPrefix = "pa_";
    public const string KeyPrefix = "key_";
    public const string WebhookPrefix = "wh_";

    public static string NewEnrollmentId() => EnrollmentPrefix + RandomHex();
    public static string NewPartnerId() => PartnerPrefix + RandomHex();
    public static string NewKeyId() => KeyPrefix + RandomHex();
    public static string NewWebhookId() => WebhookPrefix + RandomHex();

    /// <summary>A 32-hex correlation id (128 random bits), as trace ids look.</summary>
    public static string NewCorrelationId() => RandomHex(16);

    private static string RandomHex(int bytes = 8) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));
}
