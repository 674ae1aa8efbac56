using System.Buffers.Binary;
using System.Data.Common;
using System.Text;
using Microsoft.Data.Sqlite;

namespace ProspectEvents.Storage;

/// <summary>
/// The event fetch on SQLite: events_by_prospect_rows (migration 0011), a rowid table keyed so that a prospect's
/// events are neighbours in time order, read one range of keys per asked prospect in one read transaction.
/// </summary>
public sealed partial class SqliteStore
{
    // fetch_key: bits 62-33 the first 30 bits of the prospect id, bits 32-8 the minute since 2020-01-01 (clamped),
    // bits 7-0 a counter within that bucket. The migration's SQL computes the same key.
    private const long FetchKeyEpochMs = 1577836800000; // 2020-01-01T00:00:00Z
    private const long FetchKeyMaxMinute = (1L << 25) - 1;
    private const long FetchKeyPrefixSpan = (1L << 33) - 1;

    /// <summary>The first key of <paramref name="id"/>'s prefix.</summary>
    internal static long FetchKeyPrefix(ReadOnlySpan<byte> id) => (long)(BinaryPrimitives.ReadUInt32BigEndian(id) >> 2) << 33;

    /// <summary>The first key of the bucket of <paramref name="id"/>'s events at <paramref name="unixMs"/>.</summary>
    internal static long FetchKeyBucket(ReadOnlySpan<byte> id, long unixMs) =>
        FetchKeyPrefix(id) | (Math.Clamp((unixMs - FetchKeyEpochMs) / 60000, 0, FetchKeyMaxMinute) << 8);

    // From the bucket of timestamp_from to the end of the prefix: an event that found its bucket full went after the
    // prefix's newest key. Rows past timestamp_to, and rows of other prospects sharing the prefix, are skipped.
    private const string FetchRowsSql =
        "SELECT prospect_id, event_time, event_name, event_id, data FROM events_by_prospect_rows WHERE fetch_key BETWEEN ?1 AND ?2";

    private const string SummaryLatestSql = "SELECT coalesce(max(seq), 0) FROM event_summary";
    private const string SummaryRowsSql = "SELECT slot, max_minute, seq FROM event_summary WHERE seq > ?1";

    private readonly FetchSummary _summary = new();

    public override Task<List<StoredEvent>> FetchEventsAsync(
        IReadOnlyList<string> prospectIds, IReadOnlyCollection<string> eventNames, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        ReadEventsAsync(connection =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            var sqlite = (SqliteConnection)connection;
            long fromMs = ToUnixMs(from), toMs = ToUnixMs(to);
            var fromMinute = Math.Clamp((fromMs - FetchKeyEpochMs) / 60000, 0, FetchKeyMaxMinute);
            var names = new (byte[] Utf8, string Name)[eventNames.Count];
            var n = 0;
            foreach (var name in eventNames) names[n++] = (Encoding.UTF8.GetBytes(name), name);

            // The ranges in key order: the seeks walk the B-tree left to right, and an id asked twice comes next to
            // itself, to be answered once.
            var ids = new byte[prospectIds.Count][];
            var prefixes = new long[ids.Length];
            var order = new int[ids.Length];
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = ProspectId.ToBytes(prospectIds[i]);
                prefixes[i] = FetchKeyPrefix(ids[i]);
                order[i] = i;
            }
            Array.Sort(prefixes, order);
            var events = new List<StoredEvent>();
            var rows = Statement(sqlite, FetchRowsSql);
            // One read transaction for all the ranges: one snapshot, and one lock instead of one per statement.
            Statement(sqlite, "BEGIN").Execute();
            try
            {
                var summarized = CatchUpSummary(sqlite);
                for (var k = 0; k < order.Length; k++)
                {
                    var i = order[k];
                    var id = ids[i];
                    if (summarized && !_summary.MayHaveFrom(prefixes[k], fromMinute)) continue;
                    if (AskedBefore(ids, prefixes, order, k)) continue;
                    rows.Bind(1, FetchKeyBucket(id, fromMs));
                    rows.Bind(2, prefixes[k] | FetchKeyPrefixSpan);
                    try
                    {
                        while (rows.Step())
                        {
                            var time = rows.Int64(1);
                            if (time < fromMs || time > toMs || !rows.Bytes(0).SequenceEqual(id)) continue;
                            var name = NameOf(names, rows.Bytes(2));
                            if (name is null) continue;
                            events.Add(new StoredEvent(rows.Bytes(3).ToArray(), name, DateTimeOffset.FromUnixTimeMilliseconds(time),
                                prospectIds[i], rows.Bytes(4).ToArray()));
                        }
                    }
                    finally
                    {
                        rows.Reset();
                    }
                }
            }
            finally
            {
                Statement(sqlite, "COMMIT").Execute();
            }
            // Ids are ASCII: their UTF-8 bytes sort as the other providers' ORDER BY event_id does.
            events.Sort(static (a, b) => a.EventTime != b.EventTime ? b.EventTime.CompareTo(a.EventTime) : a.EventIdUtf8.SequenceCompareTo(b.EventIdUtf8));
            return Task.FromResult(events);
        }, cancellationToken);

    /// <summary>
    /// Brings the summary up to this read transaction's snapshot. False when it cannot be used for this fetch (another
    /// fetch is loading or catching it up): then every asked prospect is sought.
    /// </summary>
    private bool CatchUpSummary(SqliteConnection sqlite)
    {
        var latest = Statement(sqlite, SummaryLatestSql);
        long seq;
        try
        {
            latest.Step();
            seq = latest.Int64(0);
        }
        finally
        {
            latest.Reset();
        }
        return seq <= _summary.Seq || _summary.TryCatchUp(Statement(sqlite, SummaryRowsSql), seq);
    }

    // An event's row lies from its bucket to the end of its prefix (past the bucket only when the bucket was full).
    private const string FetchRowKeysSql = "SELECT fetch_key, event_id FROM events_by_prospect_rows WHERE fetch_key BETWEEN @from AND @to";

    /// <summary>
    /// Deletes the fetch table's copies of events that retention deletes: one range read per prefix the events share
    /// (not per event, as the events of many prospects may share one), then a delete by key.
    /// </summary>
    protected override async Task DeleteEventCopiesAsync(DbConnection connection, DbTransaction transaction,
        IReadOnlyList<(string EventId, byte[] ProspectId, long EventTime)> events, CancellationToken cancellationToken)
    {
        var ids = events.Select(e => e.EventId).ToHashSet(StringComparer.Ordinal);
        var keys = new List<long>(events.Count);
        foreach (var prefix in events.GroupBy(e => FetchKeyPrefix(e.ProspectId)))
        {
            await using var command = Command(connection, transaction, FetchRowKeysSql);
            AddParameter(command, "@from", prefix.Min(e => FetchKeyBucket(e.ProspectId, e.EventTime)));
            AddParameter(command, "@to", prefix.Key | FetchKeyPrefixSpan);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                if (ids.Contains(reader.GetString(1))) keys.Add(reader.GetInt64(0));
        }
        await using var delete = Command(connection, transaction, $"DELETE FROM events_by_prospect_rows WHERE fetch_key IN ({SelectRowNumbersSql("@keys")})");
        AddParameter(delete, "@keys", RowNumbers(keys));
        await delete.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Whether the id at sorted position <paramref name="k"/> is one already seen at an earlier position.</summary>
    private static bool AskedBefore(byte[][] ids, long[] prefixes, int[] order, int k)
    {
        for (var j = k - 1; j >= 0 && prefixes[j] == prefixes[k]; j--)
            if (ids[order[j]].AsSpan().SequenceEqual(ids[order[k]])) return true;
        return false;
    }

    private static string? NameOf((byte[] Utf8, string Name)[] names, ReadOnlySpan<byte> utf8)
    {
        foreach (var (bytes, name) in names)
            if (utf8.SequenceEqual(bytes)) return name;
        return null;
    }
}
