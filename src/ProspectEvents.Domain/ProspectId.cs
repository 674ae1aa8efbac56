namespace ProspectEvents;

/// <summary>
/// A prospect id: 40 lowercase hex characters on the wire, 20 bytes in storage
/// (half the size, and binary keys compare and sort faster in both databases).
/// </summary>
public static class ProspectId
{
    public const int HexLength = 40;
    public const int ByteLength = 20;
    public const string Pattern = "^[0-9a-f]{40}$";

    public static bool IsValid(ReadOnlySpan<char> text)
    {
        if (text.Length != HexLength) return false;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f')) return false;
        }
        return true;
    }

    public static byte[] ToBytes(string hex) =>
        IsValid(hex) ? Convert.FromHexString(hex) : throw new FormatException($"'{hex}' is not a 40-character lowercase hex prospect id.");

    public static string ToHex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
