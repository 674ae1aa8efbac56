using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace ProspectEvents;

/// <summary>Who a key speaks for: a partner's own resources, or the operator API as well.</summary>
public enum KeyScope
{
    Partner,
    Admin,
}

/// <summary>
/// API keys: <c>pek_</c> + 43 base64url characters (32 random bytes), so secret scanners can spot them.
/// Only a SHA-256 hash is stored; a full-entropy key needs no slow hash, and the hash alone cannot be used to call the API.
/// </summary>
public static class ApiKey
{
    public const string Prefix = "pek_";
    private const int RandomBytes = 32;
    public const int Length = 4 + 43;

    public static string Generate() => Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(RandomBytes));

    /// <summary>True when the text has the shape of a key; cheap rejection before any database work.</summary>
    public static bool HasValidShape(string? key) =>
        key is { Length: Length } && key.StartsWith(Prefix, StringComparison.Ordinal) && Base64Url.IsValid(key.AsSpan(Prefix.Length));

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>Constant-time comparison of a presented key's hash (<see cref="Hash"/>) with a stored one.</summary>
    public static bool Matches(byte[] presentedHash, byte[] storedHash) => CryptographicOperations.FixedTimeEquals(presentedHash, storedHash);

    public static string ScopeName(KeyScope scope) => scope == KeyScope.Admin ? "admin" : "partner";

    public static bool TryParseScope(string? text, out KeyScope scope)
    {
        scope = KeyScope.Partner;
        switch (text)
        {
            case "partner": return true;
            case "admin": scope = KeyScope.Admin; return true;
            default: return false;
        }
    }
}
