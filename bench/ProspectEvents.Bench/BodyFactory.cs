using System.Text;

namespace ProspectEvents.Bench;

/// <summary>
/// Builds enrollment-shaped JSON bodies into one reusable buffer per worker:
/// <c>{"enrollment_key":"bench_w{worker}_{n}","event_types":[...],"prospect_ids":[ids x N],"ttl_days":365}</c>, with
/// <c>"webhook_id"</c> after the key for a v2 POST.
/// The fixed parts are pre-encoded; per request only the key counter and the random 40-char lowercase
/// hex ids are rewritten (a few hundred ns, measured and reported as body_build_nanoseconds), so the
/// generator stays cheap while every request is a genuinely new enrollment. A worker has at most one
/// request in flight, so reusing its buffer after the response has been read is safe.
/// </summary>
internal sealed class BodyFactory : IRequestBodies
{
    private static ReadOnlySpan<byte> Hex => "0123456789abcdef"u8;

    private readonly byte[] _buffer;
    private readonly byte[] _random;
    private readonly byte[] _head;
    private readonly byte[] _middle;
    private readonly byte[] _tail;
    private readonly Random _rng;
    private readonly int _ids;

    public BodyFactory(int worker, int ids, string? webhookId = null)
    {
        _ids = ids;
        // Unseeded Random is the fast xoshiro implementation (a seeded one uses the slow legacy algorithm).
        _rng = new Random();
        _random = new byte[ids * 20];
        _head = Encoding.UTF8.GetBytes($"{{\"enrollment_key\":\"bench_w{worker}_");
        _middle = Encoding.UTF8.GetBytes((webhookId is null ? "\"" : $"\",\"webhook_id\":\"{webhookId}\"") +
            ",\"event_types\":[\"prospect_changed_role\",\"prospect_changed_company\"],\"prospect_ids\":[");
        _tail = "],\"ttl_days\":365}"u8.ToArray();
        _buffer = new byte[_head.Length + 20 + _middle.Length + (ids * 43) + _tail.Length];
    }

    public byte[] Buffer => _buffer;

    /// <summary>Writes request number <paramref name="n"/> into <see cref="Buffer"/>; returns its length.</summary>
    public int Build(long n)
    {
        Span<byte> dst = _buffer;
        int pos = 0;
        _head.CopyTo(dst);
        pos += _head.Length;
        n.TryFormat(dst[pos..], out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        pos += written;
        _middle.CopyTo(dst[pos..]);
        pos += _middle.Length;

        _rng.NextBytes(_random);
        ReadOnlySpan<byte> hex = Hex;
        for (int i = 0; i < _ids; i++)
        {
            if (i > 0)
            {
                dst[pos++] = (byte)',';
            }

            dst[pos++] = (byte)'"';
            ReadOnlySpan<byte> id = _random.AsSpan(i * 20, 20);
            foreach (byte b in id)
            {
                dst[pos++] = hex[b >> 4];
                dst[pos++] = hex[b & 0xF];
            }

            dst[pos++] = (byte)'"';
        }

        _tail.CopyTo(dst[pos..]);
        pos += _tail.Length;
        return pos;
    }
}

/// <summary>Request bodies written into one reusable buffer per worker (one request in flight per worker).</summary>
internal interface IRequestBodies
{
    byte[] Buffer { get; }

    /// <summary>Writes request number <paramref name="n"/> into <see cref="Buffer"/>; returns its length.</summary>
    int Build(long n);
}

/// <summary>A GET: no body at all.</summary>
internal sealed class NoBody : IRequestBodies
{
    public byte[] Buffer { get; } = [];

    public int Build(long n) => 0;
}
