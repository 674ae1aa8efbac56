using System.Text.Json;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.ScaleOut;

/// <summary>
/// One of three server processes on one PostgreSQL database is SIGKILLed while it has deliveries in flight to a slow
/// receiver: the other two send its claimed deliveries once its lease runs out, and nothing is lost.
/// </summary>
[Collection(ScaleOutCollection.Name)]
public sealed class ProcessKillTests
{
    private const int Prospects = 300;

    [Fact]
    public async Task The_deliveries_a_killed_process_had_claimed_are_sent_by_the_others_after_its_lease()
    {
        var database = await SharedDatabase.CreateAsync();
        await using var receiver = await WebhookReceiver.StartAsync(new WebhookReceiverOptions());
        receiver.Behaviour = (_, _) => new ReceiverAnswer(200, Delay: TimeSpan.FromMilliseconds(300)); // keeps requests in flight
        // Timeout 2 s, so a lease of 4 s: the killed process's claims fall due again soon.
        var servers = await ServerProcess.StartManyAsync(3, database.Storage, SharedDatabase.Settings(
            ("Webhooks:Timeout", "00:00:02"), ("Webhooks:Concurrency", "8"), ("Webhooks:RetrySchedule", "0s,1s,1s,1s,1s,1s")));
        try
        {
            await database.RegisterWebhookAsync(servers[2], receiver);
            var ids = Enumerable.Range(1, Prospects).Select(Feed.Id).ToList();
            await database.EnrollAsync(servers, ids, "\"prospect_changed_company\"");
            await database.IngestAsync(servers[0], [.. ids.Select(id => Feed.Line(id, "2026-10-01T00:00:00Z", "Acme"))]);
            await database.IngestAsync(servers[1], [.. ids.Select(id => Feed.Line(id, "2026-11-01T00:00:00Z", "Globex"))]);

            await receiver.WaitForAsync(r => r.Count >= 60, TimeSpan.FromSeconds(60));
            var killedAt = DateTimeOffset.UtcNow;
            await servers[0].KillAsync(); // requests in flight are never answered nor recorded
            await database.WaitForEveryDeliveryAsync(TimeSpan.FromSeconds(120));

            var requests = receiver.Requests;
            Assert.All(requests, r => Assert.True(r.AnchorVerified && r.StandardVerified, $"Unverified delivery {r.WebhookId}"));
            var deliveries = (await database.RowsAsync("SELECT delivery_id FROM deliveries")).Select(r => (string)r[0]).ToList();
            Assert.Equal(Prospects, deliveries.Count);
            Assert.Equal(deliveries.Order(StringComparer.Ordinal), requests.Select(r => r.WebhookId!).Distinct().Order(StringComparer.Ordinal));
            var events = requests.Select(r => JsonDocument.Parse(r.Body).RootElement).Select(b => b.GetProperty("event_id").GetString()).Distinct();
            Assert.Equal(Prospects, events.Count());

            // The killed process's requests were cut off; each came again, after the kill, with the same id and bytes.
            // The receiver stamps a request when it reads it, which can trail the kill for bytes already sent: a second
            // of slack, well inside the 4 s lease after which the others send it again.
            var again = requests.GroupBy(r => r.WebhookId!).Where(g => g.Count() > 1).ToList();
            var cutOff = killedAt.AddSeconds(1);
            Assert.Contains(again, g => g.Min(r => r.At) < cutOff && g.Max(r => r.At) > cutOff);
            Assert.All(again, g => Assert.Single(g.Select(r => Convert.ToHexString(r.Body)).Distinct()));

            // What was recorded is one attempt at a time; the cut-off ones are not in the log at all.
            var log = await AttemptLog.ReadAsync(database);
            AttemptLog.AssertOneAttemptAtATime(log);
            var seen = requests.GroupBy(r => r.WebhookId!).ToDictionary(g => g.Key, g => g.Count());
            Assert.All(log, d => Assert.True(d.Value.Log.Count <= seen[d.Key], $"Delivery {d.Key} has more attempts recorded than were made"));
        }
        finally
        {
            await Task.WhenAll(servers.Select(s => s.DisposeAsync().AsTask()));
        }
    }
}
