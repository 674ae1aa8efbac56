using System.Diagnostics;
using System.Text;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Ingest;

/// <summary>
/// Durability: an ingest killed (SIGKILL) at random moments and simply run again ends with exactly the events
/// and enrollment matches of a clean run — none lost, none doubled. Runs the real executable, once per backend.
/// </summary>
public abstract class IngestCrashContract(Backend backend)
{
    private const int Prospects = 20_000;
    private const int Snapshots = 3;

    [Fact]
    public async Task AnIngestKilledAtRandomMomentsAndRerunEndsWithTheEventsAndMatchesOfACleanRun()
    {
        var feed = Path.Combine(Path.GetTempPath(), $"crash-feed-{Guid.NewGuid():N}.ndjson");
        await File.WriteAllTextAsync(feed, BuildFeed(new Random(7)));

        var clean = await EnrolledStorageAsync();
        var cleanRun = Stopwatch.StartNew();
        Assert.Equal(0, (await RunIngestAsync(clean, feed, killAfter: null)).ExitCode);
        cleanRun.Stop();

        var crashed = await EnrolledStorageAsync();
        var random = new Random(11);
        var kills = 0;
        var whole = cleanRun.Elapsed;
        for (var attempt = 0; attempt < 6 && kills < 3; attempt++)
        {
            // Kill moments are drawn within a whole run's own duration (process start included), so they fall during
            // the ingest on a fast machine as on a slow one; a run that finished first was whole, and shorter: so is the next draw.
            var run = Stopwatch.StartNew();
            var result = await RunIngestAsync(crashed, feed, killAfter: whole * (0.2 + 0.5 * random.NextDouble()));
            if (result.Killed) kills++;
            else if (run.Elapsed < whole) whole = run.Elapsed;
        }
        Assert.True(kills > 0, "No run was killed before finishing: the feed is too small for this machine");
        var final = await RunIngestAsync(crashed, feed, killAfter: null);
        Assert.Equal(0, final.ExitCode);

        var expected = await EventsAsync(clean);
        Assert.True(expected.Count > 1_000, $"The clean run found only {expected.Count} events");
        Assert.Equal(expected, await EventsAsync(crashed));
        var matches = await MatchesAsync(clean);
        Assert.True(matches.Count > 500, $"The clean run made only {matches.Count} matches");
        Assert.Equal(matches, await MatchesAsync(crashed));
        Assert.Equal(await CurrentStatesAsync(clean), await CurrentStatesAsync(crashed));
    }

    /// <summary>A fresh database where every other prospect is enrolled for company and role changes, 20 to an enrollment.</summary>
    private async Task<StorageOptions> EnrolledStorageAsync()
    {
        var storage = await TestStorage.CreateAsync(backend);
        await using var store = Store.Create(storage);
        await store.MigrateAsync(TimeProvider.System, CancellationToken.None);
        var partner = await store.CreatePartnerAsync("crash", KeyScope.Partner, DateTimeOffset.UtcNow, CancellationToken.None);
        var n = 0;
        foreach (var chunk in Enumerable.Range(1, Prospects).Where(i => i % 2 == 0).Select(Feed.Id).Chunk(20))
        {
            await store.UpsertEnrollmentAsync(partner.PartnerId, new EnrollmentRequest($"crash_{n++}", EventTypes.ProspectChangedCompany | EventTypes.ProspectChangedRole, chunk, null),
                DateTimeOffset.UtcNow, CancellationToken.None);
        }
        return storage;
    }

    private static string BuildFeed(Random random)
    {
        string[] companies = ["Acme", "Globex", "Initech", "Hooli", "Umbrella"];
        var employer = new int[Prospects];
        var text = new StringBuilder();
        for (var snapshot = 0; snapshot < Snapshots; snapshot++)
        {
            for (var i = 0; i < Prospects; i++)
            {
                if (snapshot > 0 && random.Next(10) == 0) employer[i] = (employer[i] + 1 + random.Next(4)) % companies.Length;
                var title = random.Next(20) == 0 ? "Sr. Software Eng." : "Senior Software Engineer";
                text.AppendLine(Feed.Line(Feed.Id(i + 1), $"2026-{snapshot + 9:D2}-01T00:00:00Z", companies[employer[i]], title));
            }
        }
        return text.ToString();
    }

    private static async Task<(int ExitCode, bool Killed)> RunIngestAsync(StorageOptions storage, string feed, TimeSpan? killAfter)
    {
        using var process = BulkInput.StartIngestVerb(storage, feed);
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (killAfter is { } delay && !process.WaitForExit(delay))
        {
            process.Kill(); // SIGKILL: no cleanup, no rollback by the process itself
            await process.WaitForExitAsync();
            return (-1, true);
        }
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0 || killAfter is not null, $"ingest exited {process.ExitCode}: {await output}\n{await errors}");
        return (process.ExitCode, false);
    }

    private static Task<List<string>> EventsAsync(StorageOptions storage) =>
        RowsAsync(storage, "SELECT event_id, event_name, event_time, observed_at, data FROM events ORDER BY event_id");

    private static Task<List<string>> MatchesAsync(StorageOptions storage) =>
        RowsAsync(storage, "SELECT event_id, enrollment_key FROM deliveries ORDER BY event_id, enrollment_key");

    /// <summary>Each row of <paramref name="sql"/> as its values joined by <c>|</c>.</summary>
    private static async Task<List<string>> RowsAsync(StorageOptions storage, string sql)
    {
        await using var store = Store.Create(storage);
        await using var connection = await store.OpenConnectionAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
            rows.Add(string.Join('|', Enumerable.Range(0, reader.FieldCount).Select(i =>
                reader.GetValue(i) is byte[] bytes ? Convert.ToHexString(bytes) : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        return rows;
    }

    /// <summary>Every prospect's current state (rows not superseded by a newer one), whatever their row numbers.</summary>
    private static Task<List<string>> CurrentStatesAsync(StorageOptions storage) => RowsAsync(storage, """
        SELECT prospect_id, observed_at, full_name, job_title, company_id, company_name, company_domain, job_start_date, linkedin_url
        FROM prospect_states s LEFT JOIN superseded_states x ON x.state_pk = s.state_pk WHERE x.state_pk IS NULL ORDER BY prospect_id
        """);
}

public sealed class SqliteIngestCrashTests() : IngestCrashContract(Backend.Sqlite);

public sealed class PostgresIngestCrashTests() : IngestCrashContract(Backend.Postgres);
