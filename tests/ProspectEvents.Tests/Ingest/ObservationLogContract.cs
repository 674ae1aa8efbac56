using System.Globalization;
using ProspectEvents.Detection;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Ingest;

/// <summary>
/// Ingest judges most observations from an in-memory cache of the observation log (Store.ObservationLog.cs). These
/// tests prove the cache never makes detection differ from what the stored data says: across restarts, across
/// processes taking turns on one database, after compaction, and on databases without a usable log.
/// </summary>
public abstract class ObservationLogContract(Backend backend) : IAsyncLifetime
{
    private ServerUnderTest Server { get; set; } = null!;

    public async Task InitializeAsync() => Server = await ServerUnderTest.StartAsync(backend);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private static string Snapshot(string observedAt, string company) => Feed.Lines(Feed.Line(Feed.Dana, observedAt, company), Feed.Line(Feed.Eli, observedAt, "Initech"));

    /// <summary>Ingests with the verb (a store of its own, with a cold cache) and returns its summary.</summary>
    private async Task<(long Events, long Stale)> IngestElsewhereAsync(string ndjson)
    {
        var summary = await Server.IngestElsewhereAsync(ndjson);
        return (summary.GetProperty("events").GetInt64(), summary.GetProperty("stale").GetInt64());
    }

    private async Task<(long Events, long Stale)> IngestHereAsync(string ndjson)
    {
        var summary = await Server.IngestAsync(ndjson);
        return (summary.GetProperty("events").GetInt64(), summary.GetProperty("stale").GetInt64());
    }

    [Fact]
    public async Task ASnapshotOlderThanARepeatedOneIsStaleInAProcessStartedAfterIt()
    {
        await IngestHereAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));
        await IngestHereAsync(Snapshot("2026-11-01T00:00:00Z", "Acme, Inc.")); // a repeat: only the log records it

        Assert.Equal((0L, 2L), await IngestElsewhereAsync(Snapshot("2026-10-01T00:00:00Z", "Globex")));
    }

    [Fact]
    public async Task ARepeatIsLoggedAsItsIdAndTimeAloneWhileAChangeIsLoggedWhole()
    {
        await IngestHereAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));
        await IngestHereAsync(Snapshot("2026-10-01T00:00:00Z", "Globex")); // Dana moves, Eli repeats

        await using var connection = await Server.Store.OpenConnectionAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT length(entries), length(repeats) FROM observation_log ORDER BY seq DESC LIMIT 1";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((64L, 28L), (Convert.ToInt64(reader.GetValue(0)), Convert.ToInt64(reader.GetValue(1))));
    }

    [Fact]
    public async Task AProcessCatchesUpOnTheBatchesAnotherWroteBeforeJudgingFromItsCache()
    {
        await IngestHereAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));
        Assert.Equal((1L, 0L), await IngestElsewhereAsync(Snapshot("2026-10-01T00:00:00Z", "Globex")));

        // Back at Acme: only a stale cache would take this for a repeat of what it knew before the move.
        Assert.Equal((1L, 0L), await IngestHereAsync(Snapshot("2026-11-01T00:00:00Z", "Acme")));
        Assert.Equal((0L, 2L), await IngestHereAsync(Snapshot("2026-10-15T00:00:00Z", "Hooli")));
    }

    [Fact]
    public async Task ACompactedLogIsLoadedAndFollowedLikeTheRowsItReplaced()
    {
        Server.Ingest.MinimumCompactionBytes = 0; // compact small logs too
        await IngestHereAsync(Snapshot("2026-09-01T00:00:00Z", "Acme")); // a log without a base: compacted at once
        await IngestHereAsync(Snapshot("2026-10-01T00:00:00Z", "Acme Corp"));
        Assert.Equal("base", await Server.SqlAsync("SELECT kind FROM observation_log ORDER BY seq LIMIT 1"));

        Assert.Equal((1L, 0L), await IngestElsewhereAsync(Snapshot("2026-11-01T00:00:00Z", "Globex")));
        Assert.Equal((0L, 2L), await IngestElsewhereAsync(Snapshot("2026-09-15T00:00:00Z", "Hooli")));
        Assert.Equal((1L, 0L), await IngestHereAsync(Snapshot("2026-12-01T00:00:00Z", "Acme")));
    }

    [Fact]
    public async Task ADatabaseWithoutAnObservationLogIsJudgedFromItsStates()
    {
        await IngestHereAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));
        // Both move, so both state rows hold the newest time, as every row did before the log existed.
        await IngestHereAsync(Feed.Lines(Feed.Line(Feed.Dana, "2026-10-01T00:00:00Z", "Globex"), Feed.Line(Feed.Eli, "2026-10-01T00:00:00Z", "Umbrella")));
        await Server.SqlAsync("DELETE FROM observation_log");

        Assert.Equal((0L, 2L), await IngestElsewhereAsync(Snapshot("2026-09-15T00:00:00Z", "Hooli")));
        Assert.Equal((2L, 0L), await IngestElsewhereAsync(Snapshot("2026-11-01T00:00:00Z", "Acme"))); // back to Acme and Initech
    }

    [Fact]
    public async Task FingerprintsOfAnotherVersionAreRecomputedButTheirTimesStillCount()
    {
        await IngestHereAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));
        await IngestHereAsync(Snapshot("2026-11-01T00:00:00Z", "Acme, Inc."));
        await Server.SqlAsync("UPDATE observation_log SET fingerprint_version = 0");

        Assert.Equal((0L, 2L), await IngestElsewhereAsync(Snapshot("2026-10-01T00:00:00Z", "Globex")));
        Assert.Equal((1L, 0L), await IngestElsewhereAsync(Snapshot("2026-12-01T00:00:00Z", "Globex")));
    }

    /// <summary>
    /// A database written under older normalizing rules (an older fingerprint version) is upgraded in place: fed the
    /// same jobs again, restated as profiles restate them, it finds nothing, and a real change is still found.
    /// </summary>
    [Fact]
    public async Task ADatabaseOfOlderRulesFedTheSameJobsRestatedYieldsNoEvents()
    {
        (string Company, string Title, string Restated, string RestatedTitle)[] jobs =
        [
            ("Societe Generale", "Vice President of Sales", "Société Générale", "Vice President, Sales"),
            ("The Walt Disney Company", "Sales VP", "Walt Disney Company", "VP Sales"),
            ("Acme", "Co-Founder", "ACME GmbH & Co. KG", "Cofounder"),
            ("Globex", "Sales & Marketing Manager", "Globex", "Sales &amp; Marketing Manager"),
            ("Initech", "Data Scientist", "Initech", "\uFF24ata Scientist"),
            ("Hooli", "Software Engineer", "Hooli", "Software Engineer @ Hooli | Hiring!"),
        ];
        string SnapshotOf(string observedAt, bool restated) => Feed.Lines([.. jobs.Select((job, n) =>
            Feed.Line(Feed.Id(n), observedAt, restated ? job.Restated : job.Company, restated ? job.RestatedTitle : job.Title))]);
        await IngestHereAsync(SnapshotOf("2026-09-01T00:00:00Z", restated: false));
        await Server.SqlAsync($"UPDATE observation_log SET fingerprint_version = {Fingerprint.Version - 1}");

        Assert.Equal((0L, 0L), await IngestElsewhereAsync(SnapshotOf("2026-10-01T00:00:00Z", restated: false)));
        Assert.Equal((0L, 0L), await IngestElsewhereAsync(SnapshotOf("2026-11-01T00:00:00Z", restated: true)));
        Assert.Equal(Fingerprint.Version,
            Convert.ToInt32(await Server.SqlAsync("SELECT fingerprint_version FROM observation_log ORDER BY seq DESC LIMIT 1"), CultureInfo.InvariantCulture));
        Assert.Equal((1L, 0L), await IngestElsewhereAsync(Feed.Lines(Feed.Line(Feed.Id(0), "2026-12-01T00:00:00Z", "Société Générale", "Director of Sales"))));
    }

    [Fact]
    public async Task ALogRowOfAnotherFingerprintVersionMakesAProcessTrustTheStatesOverTheLog()
    {
        await IngestHereAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));
        Assert.Equal((1L, 0L), await IngestHereAsync(Snapshot("2026-10-01T00:00:00Z", "Globex")));
        // As if an older process (another fingerprint version) had written the move: the first row's fingerprints
        // still say Acme, and only the states know better.
        await Server.SqlAsync("UPDATE observation_log SET fingerprint_version = 0 WHERE seq = (SELECT MAX(seq) FROM observation_log)");

        Assert.Equal((1L, 0L), await IngestElsewhereAsync(Snapshot("2026-11-01T00:00:00Z", "Acme")));
    }

    [Fact]
    public async Task ObservationsOfOneProspectWithinOneMillisecondAreOneSnapshotAndTheFirstLineCounts()
    {
        await IngestHereAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));

        Assert.Equal((0L, 1L), await IngestHereAsync(Feed.Lines(
            Feed.Line(Feed.Dana, "2026-10-01T00:00:00.0002Z", "Acme"), Feed.Line(Feed.Dana, "2026-10-01T00:00:00.0007Z", "Globex"))));
        Assert.Equal((1L, 1L), await IngestHereAsync(Feed.Lines(
            Feed.Line(Feed.Dana, "2026-11-01T00:00:00.0007Z", "Globex"), Feed.Line(Feed.Dana, "2026-11-01T00:00:00.0002Z", "Acme"))));
    }
}

public sealed class SqliteObservationLogTests() : ObservationLogContract(Backend.Sqlite);

public sealed class PostgresObservationLogTests() : ObservationLogContract(Backend.Postgres);
