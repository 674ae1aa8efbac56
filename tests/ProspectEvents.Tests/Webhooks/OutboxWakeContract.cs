using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.Webhooks;

/// <summary>An ingest commit that stores events tells the store's <c>OutboxWritten</c>, which wakes the delivery claimer at once.</summary>
public abstract class OutboxWakeContract(Backend backend) : IAsyncLifetime
{
    private ServerUnderTest _server = null!;
    private int _wakes;

    public async Task InitializeAsync()
    {
        // No scheduler: its anniversary sweep tells OutboxWritten too.
        _server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?> { ["Roles"] = "api,ingest,dispatcher" });
        _server.Store.OutboxWritten += () => Interlocked.Increment(ref _wakes);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Snapshot(string observedAt, string company) => Feed.Lines(Feed.Line(Feed.Dana, observedAt, company));

    [Fact]
    public async Task OnlyAnIngestThatStoresNewEventsWakesTheClaimer()
    {
        await _server.IngestAsync(Snapshot("2026-09-01T00:00:00Z", "Acme"));
        Assert.Equal(0, Volatile.Read(ref _wakes)); // first sight: no event

        await _server.IngestAsync(Snapshot("2026-10-01T00:00:00Z", "Globex"));
        Assert.Equal(1, Volatile.Read(ref _wakes));

        await _server.IngestAsync(Snapshot("2026-10-01T00:00:00Z", "Globex")); // the same snapshot again: nothing new
        Assert.Equal(1, Volatile.Read(ref _wakes));
    }
}

public sealed class SqliteOutboxWakeTests() : OutboxWakeContract(Backend.Sqlite);

public sealed class PostgresOutboxWakeTests() : OutboxWakeContract(Backend.Postgres);
