using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ProspectEvents;

/// <summary>A 20-byte prospect id as a value (no allocation); compares in byte order, as the databases sort ids.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)] // 20 bytes, not 24: a million of them are kept
public readonly record struct ProspectKey(ulong High, ulong Middle, uint Low) : IComparable<ProspectKey>
{
    public static ProspectKey Read(ReadOnlySpan<byte> id) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(id), BinaryPrimitives.ReadUInt64BigEndian(id[8..]), BinaryPrimitives.ReadUInt32BigEndian(id[16..]));

    /// <summary>From the 40 hex characters of a valid id.</summary>
    public static ProspectKey FromHex(string hex)
    {
        Span<byte> id = stackalloc byte[ProspectId.ByteLength];
        Convert.FromHexString(hex, id, out _, out _);
        return Read(id);
    }

    /// <summary>The id's 20 bytes, as stored.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[ProspectId.ByteLength];
        Write(bytes);
        return bytes;
    }

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, High);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Middle);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], Low);
    }

    public int CompareTo(ProspectKey other)
    {
        var c = High.CompareTo(other.High);
        if (c != 0) return c;
        c = Middle.CompareTo(other.Middle);
        return c != 0 ? c : Low.CompareTo(other.Low);
    }
}
