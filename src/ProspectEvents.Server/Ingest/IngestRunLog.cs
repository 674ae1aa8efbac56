using ProspectEvents.Storage;

namespace ProspectEvents.Server.Ingest;

/// <summary>Records each ended ingest for the operator page (<c>GET /v1/admin/ingests</c>), from both of its entry points.</summary>
public static class IngestRunLog
{
    public const string Http = "http", Cli = "cli";

    /// <summary>
    /// Records <paramref name="summary"/>; a failure goes to <paramref name="failed"/>, not thrown: the ingest's
    /// batches are committed, and its caller must hear of them as they are.
    /// </summary>
    public static async Task RecordAsync(Store store, string source, DateTimeOffset startedAt, IngestSummary summary, TimeProvider clock, Action<Exception> failed)
    {
        try
        {
            // Not cancelled with the request: the ingest it records was not either.
            await store.RecordIngestRunAsync(new Store.IngestRunRecord(source, startedAt, clock.GetUtcNow(), summary.Observations, summary.Rejected,
                summary.Stale, summary.Events, summary.Seconds, summary.Error), CancellationToken.None);
        }
        catch (Exception exception)
        {
            failed(exception);
        }
    }
}
