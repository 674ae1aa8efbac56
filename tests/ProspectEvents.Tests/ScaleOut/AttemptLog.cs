using System.Globalization;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.ScaleOut;

/// <summary>One row of <c>delivery_attempts</c>: when an attempt began, how long it took, what it got.</summary>
public sealed record RecordedAttempt(int Attempt, long AttemptedAtMs, long DurationMs, int? StatusCode)
{
    public long EndedAtMs => AttemptedAtMs + DurationMs;
}

/// <summary>The attempt log read back per delivery, and what it must show however many dispatchers shared the work.</summary>
public static class AttemptLog
{
    /// <summary>Every delivery's recorded attempts, in attempt order, with the attempt count its row holds.</summary>
    public static async Task<Dictionary<string, (int Attempts, List<RecordedAttempt> Log)>> ReadAsync(SharedDatabase database)
    {
        var log = new Dictionary<string, (int, List<RecordedAttempt>)>(StringComparer.Ordinal);
        foreach (var row in await database.RowsAsync("SELECT delivery_id, attempts FROM deliveries"))
            log[(string)row[0]] = (Convert.ToInt32(row[1], CultureInfo.InvariantCulture), []);
        foreach (var row in await database.RowsAsync("""
            SELECT d.delivery_id, a.attempt, a.attempted_at, a.duration_ms, a.status_code
            FROM delivery_attempts a JOIN deliveries d ON d.delivery_pk = a.delivery_pk ORDER BY d.delivery_id, a.attempt
            """))
        {
            log[(string)row[0]].Item2.Add(new RecordedAttempt(Convert.ToInt32(row[1], CultureInfo.InvariantCulture),
                Convert.ToInt64(row[2], CultureInfo.InvariantCulture), Convert.ToInt64(row[3], CultureInfo.InvariantCulture),
                row[4] is DBNull ? null : Convert.ToInt32(row[4], CultureInfo.InvariantCulture)));
        }
        return log;
    }

    /// <summary>
    /// Each delivery's attempts are numbered 1..n as its row counts them, and none began before the one before it had
    /// ended: no two dispatchers ever had one delivery in flight at once (times are whole milliseconds, hence the 1 ms).
    /// </summary>
    public static void AssertOneAttemptAtATime(Dictionary<string, (int Attempts, List<RecordedAttempt> Log)> log)
    {
        foreach (var (delivery, (attempts, recorded)) in log)
        {
            Assert.True(Enumerable.Range(1, attempts).SequenceEqual(recorded.Select(a => a.Attempt)),
                $"Delivery {delivery} counts {attempts} attempts but the log numbers them {string.Join(",", recorded.Select(a => a.Attempt))}");
            foreach (var (before, after) in recorded.Zip(recorded.Skip(1)))
            {
                Assert.True(after.AttemptedAtMs >= before.EndedAtMs - 1,
                    $"Delivery {delivery}: attempt {after.Attempt} began at {after.AttemptedAtMs} while attempt {before.Attempt} ran ({before.AttemptedAtMs}..{before.EndedAtMs})");
            }
        }
    }

    /// <summary>Attempts a server made, by its own count: the sum of <c>prospect_events_deliveries_total</c> over every outcome on its <c>/metrics</c>.</summary>
    public static async Task<long> AttemptsMadeByAsync(ServerProcess server, string adminKey)
    {
        using var client = server.Client(adminKey);
        var page = await client.GetStringAsync("/metrics");
        return page.Split('\n').Where(line => line.StartsWith("prospect_events_deliveries_total{", StringComparison.Ordinal))
            .Sum(line => (long)double.Parse(line[(line.IndexOf('}', StringComparison.Ordinal) + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
    }
}
