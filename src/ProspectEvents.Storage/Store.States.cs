using System.Data.Common;
using System.Globalization;
using ProspectEvents.Detection;

namespace ProspectEvents.Storage;

/// <summary>
/// The prospect state rows (migrations 0005 and 0007). A state is written whole under a new, higher
/// <c>state_pk</c> each time it changes, and never updated in place: appended rows fill the table's last pages,
/// where an in-place update dirtied one page at a random place of the table per changed prospect (in a snapshot where
/// 15 % of a million prospects learn a field, that was most pages of the table, written to the WAL batch after batch).
/// The row a new one replaces is listed in <c>superseded_states</c> in the same transaction; the observation log maps
/// each prospect to its current row. A reclaim pass deletes superseded rows in <c>state_pk</c> order, touching each
/// page of the table once for many rows instead of once per change. Readers of every row (the anniversary sweep, a
/// load of all current states) skip the superseded ones.
/// </summary>
public abstract partial class Store
{
    private protected const string StateColumns = "observed_at, full_name, job_title, company_id, company_name, company_domain, job_start_date, linkedin_url";

    /// <summary>The current states: every row not superseded (an anti-join; SQLite indexes the small side on the fly).</summary>
    private const string CurrentStatesSql =
        "prospect_states s LEFT JOIN superseded_states x ON x.state_pk = s.state_pk WHERE x.state_pk IS NULL";

    /// <summary>Superseded rows one reclaim transaction deletes.</summary>
    private const int ReclaimChunk = 20_000;

    /// <summary>SQL selecting the row numbers held in <paramref name="parameter"/>, bound by <see cref="RowNumbers"/>: one parameter, any count.</summary>
    protected abstract string SelectRowNumbersSql(string parameter);

    /// <summary>The value of a <see cref="SelectRowNumbersSql"/> parameter.</summary>
    protected abstract object RowNumbers(IReadOnlyCollection<long> rows);

    /// <summary>SQL selecting the texts held in <paramref name="parameter"/>, bound by <see cref="Texts"/>: one parameter, any count.</summary>
    protected abstract string SelectTextsSql(string parameter);

    /// <summary>The value of a <see cref="SelectTextsSql"/> parameter.</summary>
    protected abstract object Texts(IReadOnlyCollection<string> texts);

    /// <summary>
    /// The stored states of the given rows, by row number, read outside any write transaction (on a SQLite WAL reader
    /// beside the writer). Rows never change once written, so what this reads stays right while the row is current.
    /// </summary>
    public Task<Dictionary<long, ProspectState>> ReadStatesAsync(IReadOnlyCollection<long> statePks, CancellationToken cancellationToken) =>
        ReadAsync(connection => LoadStatesAsync(connection, null, statePks, cancellationToken), cancellationToken);

    internal Task<long> NextStatePkAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        ScalarAsync(connection, transaction, "SELECT COALESCE(MAX(state_pk), 0) + 1 FROM prospect_states", cancellationToken);

    internal async Task<Dictionary<long, ProspectState>> LoadStatesAsync(
        DbConnection connection, DbTransaction? transaction, IReadOnlyCollection<long> statePks, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction,
            $"SELECT state_pk, {StateColumns} FROM prospect_states WHERE state_pk IN ({SelectRowNumbersSql("@rows")})");
        AddParameter(command, "@rows", RowNumbers(statePks));
        var states = new Dictionary<long, ProspectState>(statePks.Count);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) states[reader.GetInt64(0)] = ReadState(reader, 1);
        return states;
    }

    internal async Task<int> CountCurrentStatesAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        checked((int)await ScalarAsync(connection, transaction, $"SELECT COUNT(*) FROM {CurrentStatesSql}", cancellationToken));

    internal async Task ReadCurrentStatesAsync(DbConnection connection, DbTransaction transaction, CurrentStateHandler handle, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, $"SELECT s.state_pk, prospect_id, {StateColumns} FROM {CurrentStatesSql}");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) handle(reader.GetInt64(0), ProspectKey.Read((byte[])reader.GetValue(1)), ReadState(reader, 2));
    }

    /// <summary>A <see cref="ProspectState"/> from <see cref="StateColumns"/>, starting at column <paramref name="first"/>.</summary>
    private static ProspectState ReadState(DbDataReader reader, int first)
    {
        string? Text(int i) => reader.IsDBNull(first + i) ? null : reader.GetString(first + i);
        return new ProspectState(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(first)), Text(1), Text(2), Text(3), Text(4), Text(5),
            JobStartDate.TryParse(Text(6), out var start) ? start : null, Text(7));
    }

    /// <summary>Inserts states, in the way the provider does it fastest (one statement of column arrays, or one prepared statement a row).</summary>
    protected internal abstract Task AppendStatesAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<StateRow> rows, CancellationToken cancellationToken);

    /// <summary>Lists rows replaced by newer ones, in one statement.</summary>
    internal async Task SupersedeStatesAsync(DbConnection connection, DbTransaction transaction, IReadOnlyCollection<long> statePks, CancellationToken cancellationToken)
    {
        if (statePks.Count == 0) return;
        await using var command = Command(connection, transaction, $"INSERT INTO superseded_states (state_pk) {SelectRowNumbersSql("@rows")}");
        AddParameter(command, "@rows", RowNumbers(statePks));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Rows listed in <c>superseded_states</c> now, by every process.</summary>
    public Task<long> CountSupersededStatesAsync(CancellationToken cancellationToken) =>
        ReadAsync(connection => ScalarAsync(connection, null, "SELECT COUNT(*) FROM superseded_states", cancellationToken), cancellationToken);

    /// <summary>
    /// Deletes every superseded row and its listing, <see cref="ReclaimChunk"/> rows per transaction in row order, so
    /// a writer waiting behind it waits for a chunk only. The rows are those listed when it starts; each chunk
    /// removes rows and listings together, so an interrupted reclaim leaves nothing half done.
    /// </summary>
    public async Task ReclaimStatesAsync(CancellationToken cancellationToken)
    {
        var listed = await ReadAsync(async connection =>
        {
            var rows = new List<long>();
            await using var command = Command(connection, null, "SELECT DISTINCT state_pk FROM superseded_states ORDER BY state_pk");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) rows.Add(reader.GetInt64(0));
            return rows;
        }, cancellationToken);
        foreach (var chunk in listed.Chunk(ReclaimChunk))
        {
            // Ingest housekeeping: a bulk write, checkpointed in the background like the batches around it.
            await BulkWriteAsync(async (connection, transaction) =>
            {
                await LockAsync(connection, transaction, IngestLock, cancellationToken);
                foreach (var table in (string[])["prospect_states", "superseded_states"])
                {
                    await using var command = Command(connection, transaction, $"DELETE FROM {table} WHERE state_pk IN ({SelectRowNumbersSql("@rows")})");
                    AddParameter(command, "@rows", RowNumbers(chunk));
                    await command.ExecuteNonQueryAsync(cancellationToken);
                }
                return 0;
            }, cancellationToken);
        }
    }

    private async Task<long> ScalarAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }
}
