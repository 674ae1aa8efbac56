using ProspectEvents.Detection;
using ProspectEvents.Server.Ingest;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Ingest;

/// <summary>
/// A changed state is appended as a new row and the old row listed as superseded until a reclaim pass deletes both
/// (Store.States.cs). These tests prove detection reads the current row in every case: before and after a reclaim,
/// in this process and in another one, and from the states alone when the observation log is gone.
/// </summary>
public abstract class StateRowsContract(Backend backend) : IAsyncLifetime
{
    private ServerUnderTest Server { get; set; } = null!;

    public async Task InitializeAsync() => Server = await ServerUnderTest.StartAsync(backend);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private static string Snapshot(string observedAt, string danaCompany, string eliCompany = "Initech") =>
        Feed.Lines(Feed.Line(Feed.Dana, observedAt, danaCompany), Feed.Line(Feed.Eli, observedAt, eliCompany));

    private async Task<long> EventsAsync(string ndjson) => (await Server.IngestAsync(ndjson)).GetProperty("events").GetInt64();

    private async Task<long> EventsElsewhereAsync(string ndjson) => (await Server.IngestElsewhereAsync(ndjson)).GetProperty("events").GetInt64();

    private async Task<long> CountAsync(string sql) => Convert.ToInt64(await Server.SqlAsync(sql), System.Globalization.CultureInfo.InvariantCulture);

    private async Task<(long States, long Superseded)> RowsAsync() =>
        (await CountAsync("SELECT COUNT(*) FROM prospect_states"), await CountAsync("SELECT COUNT(*) FROM superseded_states"));

    [Fact]
    public async Task AChangedStateIsAppendedAndTheRowItReplacesIsListedAsSuperseded()
    {
        Server.Ingest.MinimumReclaimRows = long.MaxValue;
        await EventsAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));
        Assert.Equal(1, await EventsAsync(Snapshot("2026-10-01T00:00:00Z", "Globex")));
        Assert.Equal(0, await EventsAsync(Snapshot("2026-11-01T00:00:00Z", "Globex Inc."))); // a repeat writes no state

        Assert.Equal((3L, 1L), await RowsAsync());
        Assert.Equal(1, await CountAsync(
            "SELECT COUNT(*) FROM superseded_states x JOIN prospect_states s ON s.state_pk = x.state_pk WHERE s.company_name = 'Acme'"));
    }

    [Fact]
    public async Task ChangesAreDetectedAgainstTheNewestRowHereAndInAnotherProcess()
    {
        Server.Ingest.MinimumReclaimRows = long.MaxValue;
        await EventsAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));
        Assert.Equal(1, await EventsAsync(Snapshot("2026-10-01T00:00:00Z", "Globex")));

        Assert.Equal(0, await EventsElsewhereAsync(Snapshot("2026-11-01T00:00:00Z", "Globex")));
        Assert.Equal(1, await EventsElsewhereAsync(Snapshot("2026-12-01T00:00:00Z", "Acme"))); // a boomerang, against Globex
        Assert.Equal(1, await EventsAsync(Snapshot("2027-01-01T00:00:00Z", "Hooli")));
    }

    [Fact]
    public async Task AReclaimDeletesEverySupersededRowAndDetectionGoesOnFromTheCurrentOnes()
    {
        Server.Ingest.MinimumReclaimRows = long.MaxValue;
        await EventsAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));
        await EventsAsync(Snapshot("2026-10-01T00:00:00Z", "Globex", "Umbrella"));
        await EventsAsync(Snapshot("2026-11-01T00:00:00Z", "Hooli", "Umbrella"));
        Assert.Equal((5L, 3L), await RowsAsync());

        Server.Ingest.MinimumReclaimRows = 0;
        Assert.Equal(0, await EventsAsync(Snapshot("2026-12-01T00:00:00Z", "Hooli", "Umbrella"))); // reclaims after committing

        Assert.Equal((2L, 0L), await RowsAsync());
        Assert.Equal(2, await EventsElsewhereAsync(Snapshot("2027-01-01T00:00:00Z", "Acme", "Initech")));
        Assert.Equal(1, await EventsAsync(Snapshot("2027-02-01T00:00:00Z", "Globex", "Initech")));
    }

    [Fact]
    public async Task WithoutAnObservationLogTheRowsNotListedAsSupersededAreTheCurrentStates()
    {
        Server.Ingest.MinimumReclaimRows = long.MaxValue;
        await EventsAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));
        await EventsAsync(Snapshot("2026-10-01T00:00:00Z", "Globex"));
        // Swap the listing, so the Acme row counts as Dana's current state although the Globex row is newer: a load
        // that went by row order alone would judge against Globex.
        await Server.SqlAsync("DELETE FROM observation_log");
        await Server.SqlAsync("DELETE FROM superseded_states");
        await Server.SqlAsync("INSERT INTO superseded_states (state_pk) SELECT MAX(state_pk) FROM prospect_states");

        Assert.Equal(0, await EventsElsewhereAsync(Snapshot("2026-11-01T00:00:00Z", "Acme")));
        Assert.Equal(1, await EventsElsewhereAsync(Snapshot("2026-12-01T00:00:00Z", "Globex")));
    }

    private static Observation Seen(string prospectId, string observedAt, string company) =>
        new(prospectId, DateTimeOffset.Parse(observedAt, System.Globalization.CultureInfo.InvariantCulture), "Dana Levi", "VP Sales", null, company, null, null, null);

    private Task<IngestBatch> PrepareAsync(params Observation[] observations) => Server.Ingest.PrepareBatchAsync(observations, CancellationToken.None);

    /// <summary>Dana's company changes, oldest first, as (previous, current) company names.</summary>
    private async Task<List<(string?, string?)>> DanasMovesAsync()
    {
        var events = await Server.Store.FetchEventsAsync([Feed.Dana], [EventTypeNames.ChangedCompany], DateTimeOffset.MinValue, DateTimeOffset.MaxValue, CancellationToken.None);
        return [.. events.AsEnumerable().Reverse().Select(e => System.Text.Json.JsonDocument.Parse(e.Data).RootElement)
            .Select(d => (d.GetProperty("previous_company_name").GetString(), d.GetProperty("current_company_name").GetString()))];
    }

    private Task<IngestCounts> ApplyAsync(IngestBatch batch) => Server.Ingest.ApplyBatchAsync(batch, DateTimeOffset.UtcNow, CancellationToken.None);

    [Fact]
    public async Task APreparedBatchReadsAheadTheStatesOfProspectsTheCacheCannotJudgeAndDetectsWithoutReadingThemAgain()
    {
        await EventsAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));
        var batch = await PrepareAsync(Seen(Feed.Dana, "2026-10-01T00:00:00Z", "Globex"), Seen(Feed.Eli, "2026-10-01T00:00:00Z", "Initech"));

        // Eli repeats what is known: only Dana's state is needed.
        Assert.Equal(["Acme"], batch.StatesReadAhead!.Values.Select(s => s.CompanyName));
        // With the row gone behind the store's back, only the state read ahead can tell that Dana left Acme.
        await Server.SqlAsync("DELETE FROM prospect_states WHERE company_name = 'Acme'");
        Assert.Equal(1, (await ApplyAsync(batch)).Events);
        Assert.Equal([("Acme", "Globex")], await DanasMovesAsync());
    }

    [Fact]
    public async Task AStateReadAheadThatABatchInBetweenReplacedIsNotUsedDetectionGoesByTheNewestRow()
    {
        await EventsAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));
        var later = await PrepareAsync(Seen(Feed.Dana, "2026-11-01T00:00:00Z", "Globex"));
        Assert.Equal(1, await EventsAsync(Snapshot("2026-10-01T00:00:00Z", "Hooli"))); // Dana: Acme → Hooli, after the read-ahead

        Assert.Equal(1, (await ApplyAsync(later)).Events);
        Assert.Equal([("Acme", "Hooli"), ("Hooli", "Globex")], await DanasMovesAsync());
    }

    [Fact]
    public async Task ABatchPreparedBeforeAnotherProcessWroteOneOfItsProspectsIsJudgedAgainstWhatThatProcessWrote()
    {
        await EventsAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));
        var later = await PrepareAsync(Seen(Feed.Dana, "2026-11-01T00:00:00Z", "Globex"));
        Assert.Equal(1, await EventsElsewhereAsync(Snapshot("2026-10-01T00:00:00Z", "Hooli")));

        Assert.Equal(1, (await ApplyAsync(later)).Events);
        Assert.Equal([("Acme", "Hooli"), ("Hooli", "Globex")], await DanasMovesAsync());
    }

    [Fact]
    public async Task ABatchPreparedBeforeUnrelatedBatchesWereWrittenDetectsAsIfPreparedLast()
    {
        await EventsAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));
        var later = await PrepareAsync(Seen(Feed.Dana, "2026-11-01T00:00:00Z", "Globex"), Seen(Feed.Eli, "2026-11-01T00:00:00Z", "Initech"));
        for (var n = 1; n <= 6; n++) await EventsAsync(Feed.Lines(Feed.Line(Feed.Id(n), "2026-10-01T00:00:00Z", "Umbrella")));

        var counts = await ApplyAsync(later);
        Assert.Equal((1L, 0L), (counts.Events, counts.Stale));
        Assert.Equal([("Acme", "Globex")], await DanasMovesAsync());
        Assert.Equal(0, await EventsAsync(Snapshot("2026-12-01T00:00:00Z", "Globex"))); // the cache moved on with the batch
    }
}

public sealed class SqliteStateRowsTests() : StateRowsContract(Backend.Sqlite);

public sealed class PostgresStateRowsTests() : StateRowsContract(Backend.Postgres);
