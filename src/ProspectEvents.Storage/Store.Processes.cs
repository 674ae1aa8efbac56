using System.Data.Common;

namespace ProspectEvents.Storage;

/// <summary>
/// A <c>serve</c> process as it registered itself (migration 0013): where it runs, what it runs, which build (the
/// highest migration and fingerprint version it knows), whether it stopped its ingest and scheduled jobs
/// (<see cref="Outdated"/>), and when it last beat.
/// </summary>
public sealed record ProcessRecord(
    string ProcessId, string Host, int Pid, IReadOnlyList<string> Roles, string Build, int SchemaVersion, int FingerprintVersion, string State,
    DateTimeOffset StartedAt, DateTimeOffset HeartbeatAt, TimeSpan HeartbeatInterval)
{
    public const string Running = "running", Outdated = "outdated";

    /// <summary>Missed beats after which a process counts as gone.</summary>
    public const int MissedBeats = 3;
}

public abstract partial class Store
{
    private const string ProcessColumns = "process_id, host, pid, roles, build, schema_version, fingerprint_version, state, started_at, heartbeat_at, heartbeat_ms";

    /// <summary>How long the row of a process gone stays before a heartbeat deletes it; listings ignore it long before.</summary>
    public static readonly TimeSpan ForgetGoneProcessesAfter = TimeSpan.FromHours(1);

    /// <summary>Registers <paramref name="process"/> or records its beat (an upsert: a row deleted meanwhile comes back), and forgets processes long gone.</summary>
    public Task BeatAsync(ProcessRecord process, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await using (var command = Command(connection, transaction,
                $"""
                INSERT INTO processes ({ProcessColumns})
                VALUES (@id, @host, @pid, @roles, @build, @schema, @fingerprint, @state, @started, @beat, @interval)
                ON CONFLICT (process_id) DO UPDATE SET state = excluded.state, heartbeat_at = excluded.heartbeat_at, heartbeat_ms = excluded.heartbeat_ms
                """))
            {
                AddParameter(command, "@id", process.ProcessId);
                AddParameter(command, "@host", process.Host);
                AddParameter(command, "@pid", process.Pid);
                AddParameter(command, "@roles", string.Join(',', process.Roles));
                AddParameter(command, "@build", process.Build);
                AddParameter(command, "@schema", process.SchemaVersion);
                AddParameter(command, "@fingerprint", process.FingerprintVersion);
                AddParameter(command, "@state", process.State);
                AddParameter(command, "@started", ToUnixMs(process.StartedAt));
                AddParameter(command, "@beat", ToUnixMs(process.HeartbeatAt));
                AddParameter(command, "@interval", (long)process.HeartbeatInterval.TotalMilliseconds);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            await using (var forget = Command(connection, transaction, "DELETE FROM processes WHERE heartbeat_at < @before"))
            {
                AddParameter(forget, "@before", ToUnixMs(process.HeartbeatAt - ForgetGoneProcessesAfter));
                await forget.ExecuteNonQueryAsync(cancellationToken);
            }
            return 0;
        }, cancellationToken);

    /// <summary>Removes a process's row: it stopped cleanly.</summary>
    public Task RemoveProcessAsync(string processId, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction, "DELETE FROM processes WHERE process_id = @id");
            AddParameter(command, "@id", processId);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>The processes whose last beat is younger than <see cref="ProcessRecord.MissedBeats"/> of their intervals at <paramref name="now"/>, oldest first.</summary>
    public Task<IReadOnlyList<ProcessRecord>> LiveProcessesAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Command(connection, null,
                $"SELECT {ProcessColumns} FROM processes WHERE heartbeat_at + {ProcessRecord.MissedBeats} * heartbeat_ms >= @now ORDER BY started_at, process_id");
            AddParameter(command, "@now", ToUnixMs(now));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var processes = new List<ProcessRecord>();
            while (await reader.ReadAsync(cancellationToken)) processes.Add(ReadProcess(reader));
            return (IReadOnlyList<ProcessRecord>)processes;
        }, cancellationToken);

    private static ProcessRecord ReadProcess(DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), Int(reader, 2), reader.GetString(3).Split(',', StringSplitOptions.RemoveEmptyEntries), reader.GetString(4),
        Int(reader, 5), Int(reader, 6), reader.GetString(7), Time(reader, 8)!.Value, Time(reader, 9)!.Value, TimeSpan.FromMilliseconds(reader.GetInt64(10)));
}
