using System.Globalization;
using ProspectEvents.Detection;

namespace ProspectEvents.Storage;

public abstract partial class Store
{
    /// <summary>
    /// Emits the job-start anniversaries of <paramref name="day"/> and records the day as swept, in one transaction.
    /// Running a day again adds nothing: anniversary ids are deterministic per prospect, employer and year.
    /// Returns the number of new events.
    /// </summary>
    public async Task<int> SweepAnniversariesAsync(DateOnly day, DateTimeOffset now, CancellationToken cancellationToken) =>
        (await SweepAsync(day, now, unlessSwept: false, cancellationToken))!.Value;

    /// <summary>
    /// The scheduler's sweep: as <see cref="SweepAnniversariesAsync"/>, unless the day was swept already (by another
    /// process that started at the same time, say), which is found under the lock; then null, and nothing is read.
    /// </summary>
    public Task<int?> SweepAnniversariesOnceAsync(DateOnly day, DateTimeOffset now, CancellationToken cancellationToken) =>
        SweepAsync(day, now, unlessSwept: true, cancellationToken);

    private Task<int?> SweepAsync(DateOnly day, DateTimeOffset now, bool unlessSwept, CancellationToken cancellationToken) =>
        ThenOutboxWritten(WriteAsync(async (connection, transaction) =>
        {
            await LockAsync(connection, transaction, AnniversaryLock, cancellationToken);
            if (unlessSwept)
            {
                await using var swept = Command(connection, transaction, "SELECT 1 FROM anniversary_sweeps WHERE day = @day");
                AddParameter(swept, "@day", day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                if (await swept.ExecuteScalarAsync(cancellationToken) is not null) return (int?)null;
            }
            // Month and day of the start date; 29 February starts are celebrated on 28 February in other years.
            var patterns = new List<string> { day.ToString("'____-'MM-dd", CultureInfo.InvariantCulture) };
            if (day is { Month: 2, Day: 28 } && !DateTime.IsLeapYear(day.Year)) patterns.Add("____-02-29");

            var due = new List<(byte[] Id, ProspectState State)>();
            await using (var command = Command(connection, transaction,
                $"SELECT prospect_id, {StateColumns} FROM {CurrentStatesSql} AND (job_start_date LIKE @p0 OR job_start_date LIKE @p1)"))
            {
                AddParameter(command, "@p0", patterns[0]);
                AddParameter(command, "@p1", patterns[^1]);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken)) due.Add(((byte[])reader.GetValue(0), ReadState(reader, 1)));
            }

            var found = new List<(byte[] ProspectId, CareerEvent Event)>();
            foreach (var (id, state) in due)
            {
                if (Anniversaries.On(ProspectId.ToHex(id), state, day) is { } anniversary) found.Add((id, anniversary));
            }
            var inserted = await InsertEventsAsync(connection, transaction, found, now, cancellationToken);
            await MatchEventsAsync(connection, transaction, inserted, cancellationToken);
            await using (var record = Command(connection, transaction,
                "INSERT INTO anniversary_sweeps (day, ran_at) VALUES (@day, @now) ON CONFLICT (day) DO UPDATE SET ran_at = excluded.ran_at"))
            {
                AddParameter(record, "@day", day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                AddParameter(record, "@now", ToUnixMs(now));
                await record.ExecuteNonQueryAsync(cancellationToken);
            }
            return inserted.Count;
        }, cancellationToken));

    /// <summary>The latest day swept, or null when the sweep has never run.</summary>
    public Task<DateOnly?> LastAnniversarySweepAsync(CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Command(connection, null, "SELECT MAX(day) FROM anniversary_sweeps");
            return await command.ExecuteScalarAsync(cancellationToken) is string day
                ? DateOnly.ParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture)
                : (DateOnly?)null;
        }, cancellationToken);
}
