using System.Buffers;

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

    private static readonly SearchValues<char> LowercaseHex = SearchValues.Create("0123456789abcdef");

    public static bool IsValid(ReadOnlySpan<char> text) => text.Length == HexLength && !text.ContainsAnyExcept(LowercaseHex);

    public static byte[] ToBytes(string hex) =>
        IsValid(hex) ? Convert.FromHexString(hex) : throw new FormatException($"'{hex}' is not a 40-character lowercase hex prospect id.");

    public static string ToHex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
