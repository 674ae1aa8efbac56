using System.Data.Common;
using Npgsql;

namespace ProspectEvents.Storage;

/// <summary>PostgreSQL, shared by any number of server and CLI processes.</summary>
public sealed class PostgresStore(string connectionString) : Store
{
    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(Tuned(connectionString));

    /// <summary>The connection string with the store's defaults for what the operator left unset.</summary>
    private static string Tuned(string connectionString)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // The hot statements (key lookup, enrollment and state upserts) repeat on every request; let Npgsql keep them
        // prepared per connection.
        if (builder.MaxAutoPrepare == 0) builder.MaxAutoPrepare = 64;
        // No session state to reset when a connection goes back to the pool: the store sets none (its advisory locks
        // are transaction-scoped), and the reset (SET SESSION AUTHORIZATION DEFAULT; RESET ALL; ...) ran at every
        // reuse, two or three times an ingest batch and once a delivery claim.
        if (!given.ContainsKey("No Reset On Close") && !given.ContainsKey("NoResetOnClose")) builder.NoResetOnClose = true;
        return builder.ConnectionString;
    }

    public override string Provider => StorageOptions.Postgres;

    public override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    // gen_random_uuid is built in (PostgreSQL 13+); its first 24 hex hold 88 random bits (the rest name its version).
    // Not md5 of it: md5 is refused on servers in FIPS mode.
    protected override string NewDeliveryIdSql => "'msg_' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 24)";

    protected override string SkipLockedSql => " FOR UPDATE OF d SKIP LOCKED";

    protected override string SelectRowNumbersSql(string parameter) => $"SELECT unnest({parameter}::bigint[])";

    protected override object RowNumbers(IReadOnlyCollection<long> rows) => rows.ToArray();

    protected override string SelectTextsSql(string parameter) => $"SELECT unnest({parameter}::text[])";

    protected override object Texts(IReadOnlyCollection<string> texts) => texts.ToArray();

    private const string InsertStatesSql = $"""
        INSERT INTO prospect_states (state_pk, prospect_id, {StateColumns})
        SELECT * FROM unnest(@k::bigint[], @i::bytea[], @a::bigint[], @n::text[], @t::text[], @c::text[], @cn::text[], @cd::text[], @s::text[], @u::text[])
        """;

    // One statement of column arrays: one round trip and ten parameters, where 25-row statements took hundreds.
    protected internal override async Task AppendStatesAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<StateRow> rows, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, InsertStatesSql);
        AddParameter(command, "@k", rows.Select(r => r.StatePk).ToArray());
        AddParameter(command, "@i", rows.Select(r => r.Key.ToBytes()).ToArray());
        AddParameter(command, "@a", rows.Select(r => ToUnixMs(r.State.ObservedAt)).ToArray());
        AddParameter(command, "@n", rows.Select(r => r.State.FullName).ToArray());
        AddParameter(command, "@t", rows.Select(r => r.State.JobTitle).ToArray());
        AddParameter(command, "@c", rows.Select(r => r.State.CompanyId).ToArray());
        AddParameter(command, "@cn", rows.Select(r => r.State.CompanyName).ToArray());
        AddParameter(command, "@cd", rows.Select(r => r.State.CompanyDomain).ToArray());
        AddParameter(command, "@s", rows.Select(r => r.State.JobStartDate?.ToString()).ToArray());
        AddParameter(command, "@u", rows.Select(r => r.State.LinkedinUrl).ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    protected override string FetchEventsFromArraysSql =>
        "SELECT event_id, event_name, event_time, prospect_id, data FROM events WHERE prospect_id = ANY(@p::bytea[]) AND event_name = ANY(@n::text[]) " +
        "AND event_time >= @from AND event_time <= @to ORDER BY event_time DESC, event_id";

    protected override string InsertEventsFromArraysSql => """
        INSERT INTO events (event_id, event_name, prospect_id, event_time, observed_at, detected_at, data)
        SELECT id, name, prospect, time, observed, @detected, data
        FROM unnest(@id::text[], @name::text[], @prospect::bytea[], @time::bigint[], @observed::bigint[], @data::text[]) AS e (id, name, prospect, time, observed, data)
        ON CONFLICT (event_id) DO NOTHING
        RETURNING event_id
        """;

    protected override bool IsUniqueViolation(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    // Npgsql's own classification: network and I/O failures, timeouts, and server states such as shutdown, too many
    // connections, lock timeouts, serialization failures and deadlocks.
    public override bool IsTransient(Exception exception) => exception is NpgsqlException { IsTransient: true };

    protected override async Task TakeLockAsync(DbConnection connection, DbTransaction transaction, long key, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", (NpgsqlConnection)connection, (NpgsqlTransaction)transaction);
        command.Parameters.AddWithValue("key", key);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    protected override async Task LockPartnerAsync(DbConnection connection, DbTransaction transaction, string partnerId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT 1 FROM partners WHERE partner_id = @partner FOR UPDATE", (NpgsqlConnection)connection, (NpgsqlTransaction)transaction);
        command.Parameters.AddWithValue("partner", partnerId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // Seen with Npgsql 10.0.3: when the server refuses a statement in the round trip that prepares it automatically,
    // a later command on that pooled connection reads a reply meant for another ("Received unexpected backend message
    // DataRow"). Forgetting the connection's prepared statements keeps it sound; they are prepared again as used.
    protected override void Refused(DbConnection connection)
    {
        if (connection.State != System.Data.ConnectionState.Open) return; // a broken connection is not pooled again
        try
        {
            ((NpgsqlConnection)connection).UnprepareAll();
        }
        catch (NpgsqlException)
        {
            // The connection broke too, so Npgsql discards it; the caller hears of the refusal itself.
        }
    }

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
