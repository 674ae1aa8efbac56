using System.Data.Common;

namespace ProspectEvents.Storage;

/// <summary>
/// The observation log (migrations 0005 and 0008): rows of packed bytes, each appended in the transaction of the
/// ingest batch it describes, numbered in commit order (<c>seq</c>; appends hold the ingest lock). What the bytes mean,
/// and when the log is replaced by a base, is ingest's business: storage keeps the rows, their <c>kind</c> and the
/// fingerprint version they were written with.
/// </summary>
public abstract partial class Store
{
    /// <summary>Reads the rows after <paramref name="afterSeq"/> in order, until <paramref name="handle"/> returns false.</summary>
    /// <remarks>
    /// The blobs are read into two buffers reused row after row: a base row is a megabyte, and an array per row made a
    /// load of the log run several full collections.
    /// </remarks>
    internal async Task ReadLogAsync(DbConnection connection, DbTransaction transaction, long afterSeq, LogRowHandler handle, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction,
            "SELECT seq, kind, fingerprint_version, entries, repeats FROM observation_log WHERE seq > @last ORDER BY seq");
        AddParameter(command, "@last", afterSeq);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        byte[] entries = [], repeats = [];
        while (await reader.ReadAsync(cancellationToken))
        {
            if (!handle(reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2), ReadBlob(reader, 3, ref entries).Span, ReadBlob(reader, 4, ref repeats).Span)) return;
        }
    }

    /// <summary>A blob column's bytes, read into <paramref name="buffer"/> (replaced by a larger one when too small).</summary>
    private static ReadOnlyMemory<byte> ReadBlob(DbDataReader reader, int ordinal, ref byte[] buffer)
    {
        var length = checked((int)reader.GetBytes(ordinal, 0, null, 0, 0));
        if (buffer.Length < length) buffer = new byte[length];
        if (reader.GetBytes(ordinal, 0, buffer, 0, length) != length) throw new InvalidDataException($"A log blob of {length} bytes read short.");
        return buffer.AsMemory(0, length);
    }

    /// <summary>The kind of the first row; null when the log is empty.</summary>
    internal async Task<string?> FirstLogKindAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, "SELECT kind FROM observation_log ORDER BY seq LIMIT 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? reader.GetString(0) : null;
    }

    internal async Task<bool> LogHoldsOtherVersionsAsync(DbConnection connection, DbTransaction transaction, int fingerprintVersion, CancellationToken cancellationToken) =>
        await ScalarAsync(connection, transaction, $"SELECT COUNT(*) FROM observation_log WHERE fingerprint_version <> {fingerprintVersion}", cancellationToken) > 0;

    internal Task<long> LogEntryBytesAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        ScalarAsync(connection, transaction, "SELECT COALESCE(SUM(length(entries)), 0) FROM observation_log", cancellationToken);

    /// <summary>Appends one row; returns its sequence number.</summary>
    internal async Task<long> AppendLogAsync(DbConnection connection, DbTransaction transaction, string kind, int fingerprintVersion,
        byte[] entries, byte[] repeats, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction,
            "INSERT INTO observation_log (kind, fingerprint_version, entries, repeats) VALUES (@kind, @version, @entries, @repeats) RETURNING seq");
        AddParameter(command, "@kind", kind);
        AddParameter(command, "@version", fingerprintVersion);
        AddParameter(command, "@entries", entries);
        AddParameter(command, "@repeats", repeats);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    internal async Task DeleteLogAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using var delete = Command(connection, transaction, "DELETE FROM observation_log");
        await delete.ExecuteNonQueryAsync(cancellationToken);
    }
}
