using System.Text.Json;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.ScaleOut;

/// <summary>
/// Three server processes with every role on one PostgreSQL database, requests spread by the test. A stream of
/// snapshots ingested through two of them at once, in interleaved batches that share prospects, must give exactly the
/// events one process gives on a fresh database, and the three dispatchers must deliver each once, one attempt at a time.
/// </summary>
[Collection(ScaleOutCollection.Name)]
public sealed class SharedIngestTests
{
    private const int Prospects = 300;
    private const int Snapshots = 4;
    private const int LinesPerRequest = 30;
    private const string ChangeTypes = "\"prospect_changed_company\",\"prospect_changed_role\"";

    [Fact]
    public async Task A_stream_ingested_through_two_processes_at_once_gives_the_events_of_one_process_and_each_delivery_once()
    {
        var stream = CareerStream.Snapshots(Prospects, Snapshots, seed: 18);
        var alone = await IngestInOneProcessAsync(stream);
        Assert.True(alone.Count(e => e.Contains("prospect_changed_company", StringComparison.Ordinal)) > 50, "The stream holds too few company changes to show anything");
        Assert.True(alone.Count(e => e.Contains("prospect_changed_role", StringComparison.Ordinal)) > 30, "The stream holds too few role changes to show anything");

        var database = await SharedDatabase.CreateAsync();
        await using var receiver = await WebhookReceiver.StartAsync(new WebhookReceiverOptions());
        // A first attempt of every fourth delivery fails, so retries (due after about a second) go to whichever process claims them.
        receiver.Behaviour = (request, before) => before == 0 && FailsFirst(request.WebhookId)
            ? new ReceiverAnswer(503)
            : new ReceiverAnswer(200, Delay: TimeSpan.FromMilliseconds(20));
        var servers = await ServerProcess.StartManyAsync(3, database.Storage,
            SharedDatabase.Settings(("Webhooks:RetrySchedule", "0s,1s,1s,1s,1s"), ("Webhooks:Concurrency", "8")));
        try
        {
            await database.RegisterWebhookAsync(servers[2], receiver);
            await database.EnrollAsync(servers, Enumerable.Range(1, Prospects).Select(Feed.Id), ChangeTypes);

            // Snapshot after snapshot (feeds come in time order); within one, two processes take interleaved requests at once.
            var random = new Random(18);
            foreach (var snapshot in stream)
            {
                var (first, second) = Split(snapshot, random);
                await Task.WhenAll(IngestInTurnAsync(database, servers[0], first), IngestInTurnAsync(database, servers[1], second));
            }
            Assert.Equal(alone, await database.EventsAsync());

            // One enrollment monitors each prospect: one delivery per event, each delivered, verified, and recorded once per attempt.
            Assert.Equal(alone.Count, await database.CountAsync("SELECT COUNT(*) FROM deliveries"));
            await database.WaitForEveryDeliveryAsync(TimeSpan.FromSeconds(120));
            var requests = receiver.Requests;
            Assert.All(requests, r => Assert.True(r.AnchorVerified && r.StandardVerified, $"Unverified delivery {r.WebhookId}"));
            var delivered = requests.Where(r => r.AnsweredStatus == 200).Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("event_id").GetString()!);
            Assert.Equal(alone.Select(e => e[..e.IndexOf(' ', StringComparison.Ordinal)]).Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal));

            var log = await AttemptLog.ReadAsync(database);
            var seen = requests.GroupBy(r => r.WebhookId!).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(log.Keys.Order(StringComparer.Ordinal), seen.Keys.Order(StringComparer.Ordinal));
            foreach (var (delivery, (_, recorded)) in log)
                Assert.True(seen[delivery] == recorded.Count, $"Delivery {delivery} reached the receiver {seen[delivery]} times, but the log records {recorded.Count} attempts");
            AttemptLog.AssertOneAttemptAtATime(log);
            Assert.Contains(log.Values, d => d.Attempts > 1);

            // The dispatchers shared the work: what each says it sent adds up to what the receiver saw.
            var made = Array.Empty<long>();
            await SharedDatabase.WaitUntilAsync(async () =>
            {
                made = await Task.WhenAll(servers.Select(s => AttemptLog.AttemptsMadeByAsync(s, database.AdminKey)));
                return made.Sum() == requests.Count;
            }, TimeSpan.FromSeconds(15), () => Task.FromResult($"the servers count {string.Join(" + ", made)} attempts, the receiver saw {requests.Count}"));
            Assert.True(made.Count(n => n > 0) >= 2, $"One dispatcher did all the work: {string.Join(", ", made)}");
        }
        finally
        {
            await Task.WhenAll(servers.Select(s => s.DisposeAsync().AsTask()));
        }
    }

    /// <summary>The events the <c>ingest</c> verb stores from the stream, snapshot after snapshot, on a fresh database of its own.</summary>
    private static async Task<List<string>> IngestInOneProcessAsync(List<List<string>> stream)
    {
        var database = await SharedDatabase.CreateAsync();
        foreach (var snapshot in stream)
        {
            var path = Path.Combine(Path.GetTempPath(), $"scale-out-{Guid.NewGuid():N}.ndjson");
            await File.WriteAllLinesAsync(path, snapshot);
            var (exit, _, error) = await ServerUnderTest.RunVerbAsync(["ingest", path, .. database.Storage.Arguments()]);
            File.Delete(path);
            Assert.True(exit == 0, error);
        }
        return await database.EventsAsync();
    }

    /// <summary>
    /// A snapshot in shuffled requests, every other one for each process, and one line in ten sent to both, so the
    /// two processes ingest the same prospect at once.
    /// </summary>
    private static (List<string[]> First, List<string[]> Second) Split(List<string> snapshot, Random random)
    {
        var lines = snapshot.OrderBy(_ => random.Next()).ToList();
        var (first, second) = (new List<string[]>(), new List<string[]>());
        foreach (var (request, n) in lines.Chunk(LinesPerRequest).Select((chunk, n) => (chunk, n)))
        {
            (n % 2 == 0 ? first : second).Add(request);
            var both = request.Where(_ => random.Next(10) == 0).ToArray();
            if (both.Length > 0) (n % 2 == 0 ? second : first).Add(both);
        }
        return (first, second);
    }

    private static async Task IngestInTurnAsync(SharedDatabase database, ServerProcess server, List<string[]> requests)
    {
        foreach (var request in requests) await database.IngestAsync(server, request);
    }

    private static bool FailsFirst(string? webhookId) => webhookId is not null && (uint)StringComparer.Ordinal.GetHashCode(webhookId) % 4 == 0;
}
