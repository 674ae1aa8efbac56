using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ProspectEvents.Detection;

namespace ProspectEvents.Server.Ingest;

/// <summary>What ingest keeps in memory of a prospect: when it was last observed, its state row, and the fingerprint of its state.</summary>
/// <remarks>
/// Packed at 4 bytes: a 64-bit row number then costs no padding, so a dictionary entry stays 72 bytes. Row numbers
/// grow with every state change (changed states are appended), so 32 bits would run out on a large, busy database.
/// </remarks>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal readonly record struct CachedProspect(long ObservedAtMs, long StatePk, Fingerprint Fingerprint);

/// <summary>One prospect as an observation-log entry: <see cref="Size"/> bytes of id, time and fingerprint.</summary>
internal readonly record struct LogEntry(ProspectKey Key, CachedProspect Prospect)
{
    public const int Size = ProspectId.ByteLength + 2 * sizeof(long) + Fingerprint.Size;

    public void Write(Span<byte> destination)
    {
        Key.Write(destination);
        BinaryPrimitives.WriteInt64LittleEndian(destination[20..], Prospect.ObservedAtMs);
        BinaryPrimitives.WriteInt64LittleEndian(destination[28..], Prospect.StatePk);
        Prospect.Fingerprint.Write(destination[36..]);
    }

    public static LogEntry Read(ReadOnlySpan<byte> source) => new(ProspectKey.Read(source), new CachedProspect(
        BinaryPrimitives.ReadInt64LittleEndian(source[20..]), BinaryPrimitives.ReadInt64LittleEndian(source[28..]), Fingerprint.Read(source[36..])));

    public static byte[] Pack(IReadOnlyList<LogEntry> entries)
    {
        var bytes = new byte[entries.Count * Size];
        for (var i = 0; i < entries.Count; i++) entries[i].Write(bytes.AsSpan(i * Size));
        return bytes;
    }
}

/// <summary>
/// A repeat as an observation-log entry: only the prospect and its newer time (<see cref="Size"/> bytes, where a
/// <see cref="LogEntry"/> takes 64): a repeat changes neither the state row nor the fingerprint.
/// </summary>
internal readonly record struct LogTime(ProspectKey Key, long ObservedAtMs)
{
    public const int Size = ProspectId.ByteLength + sizeof(long);

    public static LogTime Read(ReadOnlySpan<byte> source) => new(ProspectKey.Read(source), BinaryPrimitives.ReadInt64LittleEndian(source[20..]));

    public static byte[] Pack(IReadOnlyList<LogTime> times)
    {
        var bytes = new byte[times.Count * Size];
        for (var i = 0; i < times.Count; i++)
        {
            times[i].Key.Write(bytes.AsSpan(i * Size));
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * Size + 20), times[i].ObservedAtMs);
        }
        return bytes;
    }
}

/// <summary>
/// Every prospect ingest has seen, in memory (about 70 bytes each), mirroring the observation log up to
/// <see cref="LastSeq"/>. It lets ingest judge most observations without reading the database; see <see cref="IngestEngine"/>.
/// Kept in 256 dictionaries rather than one: a dictionary grows by doubling, and doubling one of a million entries
/// would briefly hold three times the memory, where a small one's step is small.
/// </summary>
internal sealed class ProspectCache
{
    private const int Partitions = 256;
    private readonly Dictionary<ProspectKey, CachedProspect>[] _partitions = new Dictionary<ProspectKey, CachedProspect>[Partitions];

    /// <param name="expected">How many prospects to make room for at once.</param>
    public ProspectCache(int expected = 0)
    {
        for (var i = 0; i < Partitions; i++) _partitions[i] = new Dictionary<ProspectKey, CachedProspect>(expected / Partitions * 9 / 8);
    }

    /// <summary>
    /// Held while the cache changes (<see cref="Fold"/>) and by readers on other threads than the ingest batch's own
    /// (<see cref="IngestEngine.PrepareBatchAsync"/>): a dictionary may be read by many threads at once, but not while written.
    /// </summary>
    public Lock Gate { get; } = new();

    /// <summary>The last log row folded in.</summary>
    public long LastSeq { get; private set; }

    /// <summary>Moves on with every change of an entry (each <see cref="Set"/> and <see cref="Fold"/>).</summary>
    public long Version { get; private set; }

    // Bytes of the last base, and of the rows since (see CompactionDue).
    private long _baseBytes, _tailBytes;

    public int Count => _partitions.Sum(p => p.Count);

    public bool TryGet(ProspectKey key, out CachedProspect prospect) => Partition(key).TryGetValue(key, out prospect);

    public void Set(ProspectKey key, CachedProspect prospect)
    {
        Partition(key)[key] = prospect;
        Version++;
    }

    public IEnumerable<LogEntry> Entries() => _partitions.SelectMany(p => p.Select(e => new LogEntry(e.Key, e.Value)));

    /// <summary>
    /// Folds in one log row (rows come in sequence order): its full entries and its repeats' times. With
    /// <paramref name="timesOnly"/>, for rows whose fingerprints cannot be trusted, only newer times of prospects
    /// already here are taken from the full entries too.
    /// </summary>
    public void Fold(long seq, bool isBase, ReadOnlySpan<byte> entries, ReadOnlySpan<byte> times = default, bool timesOnly = false)
    {
        for (var at = 0; at + LogEntry.Size <= entries.Length; at += LogEntry.Size)
        {
            var entry = LogEntry.Read(entries[at..]);
            if (!timesOnly) Partition(entry.Key)[entry.Key] = entry.Prospect;
            else Advance(entry.Key, entry.Prospect.ObservedAtMs);
        }
        for (var at = 0; at + LogTime.Size <= times.Length; at += LogTime.Size)
        {
            var time = LogTime.Read(times[at..]);
            Advance(time.Key, time.ObservedAtMs);
        }
        if (isBase) _baseBytes += entries.Length;
        else _tailBytes += entries.Length + times.Length;
        LastSeq = seq;
        Version++;
    }

    /// <summary>Moves a known prospect's time forward (one lookup: the entry is updated where it lies).</summary>
    private void Advance(ProspectKey key, long observedAtMs)
    {
        ref var known = ref CollectionsMarshal.GetValueRefOrNullRef(Partition(key), key);
        if (!Unsafe.IsNullRef(ref known) && observedAtMs > known.ObservedAtMs) known = known with { ObservedAtMs = observedAtMs };
    }

    /// <summary>The log is now one base of everything here, its last row <paramref name="seq"/>.</summary>
    public void Rebased(long seq)
    {
        LastSeq = seq;
        _baseBytes = (long)Count * LogEntry.Size;
        _tailBytes = 0;
    }

    /// <summary>
    /// True when a base would replace at least half of the log: when the bytes it would drop (entries listed again by
    /// later rows, repeats' times) reach <paramref name="minimumBytes"/> and the size of the base itself (one entry a
    /// prospect). A log that lists each prospect once, as a first sight's does, is no larger than its base and is left
    /// as it is (comparing the rows since the base with the base compacted it for nothing). A log without a base is
    /// compacted once it holds the minimum: until then every load reads all the states.
    /// </summary>
    public bool CompactionDue(long minimumBytes)
    {
        if (_baseBytes == 0) return _tailBytes >= minimumBytes;
        var based = (long)Count * LogEntry.Size;
        return _baseBytes + _tailBytes - based >= Math.Max(based, minimumBytes);
    }

    // Ids are hashes in practice, but need not be: mix all their bits.
    private Dictionary<ProspectKey, CachedProspect> Partition(ProspectKey key) =>
        _partitions[(int)(((key.High ^ key.Middle ^ key.Low) * 0x9E3779B97F4A7C15UL) >> 56)];
}
