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
/// each prospect to its current row. Once superseded rows reach half the current ones, a reclaim pass deletes them in
/// <c>state_pk</c> order, touching each page of the table once for many rows instead of once per change.
/// Readers of every row (the anniversary sweep, a cache load from the states) skip the superseded ones.
/// </summary>
public abstract partial class Store
{
    private protected const string StateColumns = "observed_at, full_name, job_title, company_id, company_name, company_domain, job_start_date, linkedin_url";

    /// <summary>The current states: every row not superseded (an anti-join; SQLite indexes the small side on the fly).</summary>
    private const string CurrentStatesSql =
        "prospect_states s LEFT JOIN superseded_states x ON x.state_pk = s.state_pk WHERE x.state_pk IS NULL";

    private const int StateChunk = 250;

    /// <summary>Superseded rows below which no reclaim runs, however few current ones there are (tests lower it).</summary>
    internal long MinimumReclaimRows { get; set; } = 10_000;

    /// <summary>Superseded rows one reclaim transaction deletes.</summary>
    private const int ReclaimChunk = 20_000;

    // Rows in superseded_states as this process counts them: null until counted (at the first reclaim check after a
    // cache load), then advanced by this process's batches. Batches of other processes are counted at its next load.
    private long? _supersededStates;

    /// <summary>A state to write: its row number, the prospect and the state.</summary>
    private protected readonly record struct StateRow(long StatePk, ProspectKey Key, ProspectState State);

    /// <summary>SQL selecting the row numbers held in <paramref name="parameter"/>, bound by <see cref="RowNumbers"/>: one parameter, any count.</summary>
    protected abstract string SelectRowNumbersSql(string parameter);

    /// <summary>The value of a <see cref="SelectRowNumbersSql"/> parameter.</summary>
    protected abstract object RowNumbers(IReadOnlyCollection<long> rows);

    /// <summary>SQL selecting the texts held in <paramref name="parameter"/>, bound by <see cref="Texts"/>: one parameter, any count.</summary>
    protected abstract string SelectTextsSql(string parameter);

    /// <summary>The value of a <see cref="SelectTextsSql"/> parameter.</summary>
    protected abstract object Texts(IReadOnlyCollection<string> texts);

    private Task<long> NextStatePkAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        ScalarAsync(connection, transaction, "SELECT COALESCE(MAX(state_pk), 0) + 1 FROM prospect_states", cancellationToken);

    /// <summary>The stored states of the given rows, by row number.</summary>
    private async Task<Dictionary<long, ProspectState>> LoadStatesAsync(
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

    /// <summary>A <see cref="ProspectState"/> from <see cref="StateColumns"/>, starting at column <paramref name="first"/>.</summary>
    private static ProspectState ReadState(DbDataReader reader, int first)
    {
        string? Text(int i) => reader.IsDBNull(first + i) ? null : reader.GetString(first + i);
        return new ProspectState(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(first)), Text(1), Text(2), Text(3), Text(4), Text(5),
            JobStartDate.TryParse(Text(6), out var start) ? start : null, Text(7));
    }

    /// <summary>Inserts states, in the way the provider does it fastest (one statement of column arrays, or one prepared statement a row).</summary>
    private protected abstract Task AppendStatesAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<StateRow> rows, CancellationToken cancellationToken);

    /// <summary>Lists rows replaced by newer ones, in one statement.</summary>
    private async Task SupersedeStatesAsync(DbConnection connection, DbTransaction transaction, List<long> statePks, CancellationToken cancellationToken)
    {
        if (statePks.Count == 0) return;
        await using var command = Command(connection, transaction, $"INSERT INTO superseded_states (state_pk) {SelectRowNumbersSql("@rows")}");
        AddParameter(command, "@rows", RowNumbers(statePks));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Deletes the superseded rows once they reach half the current states (and <see cref="MinimumReclaimRows"/>), so
    /// they take about a third of the table at most (rows other processes supersede are counted at this one's next
    /// cache load). Called after a batch committed: nothing here may fail the batch (not even a cancellation: the
    /// batch is stored), and the next batch tries again.
    /// </summary>
    private async Task ReclaimStatesIfDueAsync(CancellationToken cancellationToken)
    {
        if (_cache is not { } cache) return;
        try
        {
            _supersededStates ??= await ReadAsync(connection => ScalarAsync(connection, null, "SELECT COUNT(*) FROM superseded_states", cancellationToken), cancellationToken);
            if (_supersededStates < Math.Max(cache.Count / 2, MinimumReclaimRows)) return;
            await ReclaimStatesAsync(cancellationToken);
            _supersededStates = 0;
        }
        catch (Exception e)
        {
            if (e is not OperationCanceledException) StoreLog.ReclaimFailed(Logger, e);
            _supersededStates = null;
        }
    }

    /// <summary>
    /// Deletes every superseded row and its listing, <see cref="ReclaimChunk"/> rows per transaction in row order, so
    /// a writer waiting behind it waits for a chunk only. The rows are those listed when it starts; each chunk
    /// removes rows and listings together, so an interrupted reclaim leaves nothing half done.
    /// </summary>
    internal async Task ReclaimStatesAsync(CancellationToken cancellationToken)
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
