namespace ProspectEvents.Storage;

public abstract partial class Store
{
    /// <summary>
    /// Takes up to <paramref name="chunk"/> of a key's permits in <paramref name="segment"/>, so that the permits taken over
    /// the window (that segment and the <paramref name="segmentsPerWindow"/> − 1 before it) stay within
    /// <paramref name="limit"/>, whichever processes took them. <paramref name="unspent"/>, what this process took in an
    /// earlier segment and did not spend, is given back first. One transaction; processes taking for the same key at
    /// once serialize on the segment's row.
    /// </summary>
    public Task<PermitTake> TakePermitsAsync(string keyId, long segment, int segmentsPerWindow, int limit, int chunk, UnspentPermits? unspent,
        CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            if (unspent is { Count: > 0 } back)
            {
                await using var giveBack = Command(connection, transaction, GiveBackSql);
                AddParameter(giveBack, "@key", keyId);
                AddParameter(giveBack, "@slot", (int)(back.Segment % segmentsPerWindow));
                AddParameter(giveBack, "@segment", back.Segment);
                AddParameter(giveBack, "@count", back.Count);
                await giveBack.ExecuteNonQueryAsync(cancellationToken);
            }

            // The earlier segments of the window no longer change (their time is over), so reading them apart from the
            // take below loses nothing to a concurrent taker: those race only on the current segment's row.
            int earlier;
            long oldest;
            await using (var read = Command(connection, transaction, EarlierSegmentsSql))
            {
                AddParameter(read, "@key", keyId);
                AddParameter(read, "@from", segment - segmentsPerWindow);
                AddParameter(read, "@segment", segment);
                await using var reader = await read.ExecuteReaderAsync(cancellationToken);
                await reader.ReadAsync(cancellationToken);
                earlier = Int(reader, 0);
                oldest = reader.IsDBNull(1) ? segment : Convert.ToInt64(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture);
            }
            var room = limit - earlier;
            if (room <= 0) return new PermitTake(0, limit, oldest);

            await using var take = Command(connection, transaction, TakeSql);
            AddParameter(take, "@key", keyId);
            AddParameter(take, "@slot", (int)(segment % segmentsPerWindow));
            AddParameter(take, "@segment", segment);
            AddParameter(take, "@first", Math.Min(chunk, room));
            AddParameter(take, "@chunk", chunk);
            AddParameter(take, "@room", room);
            await using var taken = await take.ExecuteReaderAsync(cancellationToken);
            return await taken.ReadAsync(cancellationToken)
                ? new PermitTake(Int(taken, 0), earlier + Int(taken, 1), oldest)
                : new PermitTake(0, limit, oldest); // the segment already holds the window's room
        }, cancellationToken);

    private const string GiveBackSql =
        "UPDATE rate_limit_segments SET taken = CASE WHEN taken > @count THEN taken - @count ELSE 0 END WHERE key_id = @key AND slot = @slot AND segment = @segment";

    private const string EarlierSegmentsSql =
        "SELECT COALESCE(SUM(taken), 0), MIN(segment) FROM rate_limit_segments WHERE key_id = @key AND segment > @from AND segment < @segment AND taken > 0";

    // The slot's row as this segment sees it: another segment's count (one a window ago) starts again from zero.
    private const string InSegment = "(CASE WHEN s.segment = excluded.segment THEN s.taken ELSE 0 END)";
    private const string Grant = $"(CASE WHEN @room - {InSegment} < @chunk THEN @room - {InSegment} ELSE @chunk END)";

    // SET expressions see the row as it was, so the grant is spelled out where it is used; no row back means no room.
    private const string TakeSql = $"""
        INSERT INTO rate_limit_segments AS s (key_id, slot, segment, taken, granted) VALUES (@key, @slot, @segment, @first, @first)
        ON CONFLICT (key_id, slot) DO UPDATE SET segment = excluded.segment, taken = {InSegment} + {Grant}, granted = {Grant}
        WHERE {InSegment} < @room
        RETURNING granted, taken
        """;
}

/// <summary>Permits a process took in <paramref name="Segment"/> and did not spend before the segment ended.</summary>
public readonly record struct UnspentPermits(long Segment, int Count);

/// <summary>What a take of permits got.</summary>
/// <param name="Granted">Permits now the caller's to spend in the segment; 0 when the window is full.</param>
/// <param name="WindowTaken">Permits every process has taken in the window, these included (the limit when full).</param>
/// <param name="OldestSegment">The oldest segment of the window holding permits: they come back when it leaves the window.</param>
public readonly record struct PermitTake(int Granted, int WindowTaken, long OldestSegment);
