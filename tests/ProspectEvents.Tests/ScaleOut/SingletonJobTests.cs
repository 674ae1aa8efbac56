using System.Globalization;
using System.Text.Json;
using ProspectEvents.Storage;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.ScaleOut;

/// <summary>
/// The scheduler's jobs with three server processes, all with the <c>scheduler</c> role, on one PostgreSQL database:
/// the day's anniversary sweep runs in one of them only, and the fan-out indexers of all three, racing enrollment
/// writes and ingests, never make an event go twice to one enrollment.
/// </summary>
[Collection(ScaleOutCollection.Name)]
public sealed class SingletonJobTests
{
    [Fact]
    public async Task Three_processes_started_at_once_sweep_the_days_anniversaries_once_and_deliver_each_once()
    {
        const int prospects = 60;
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var database = await SharedDatabase.CreateAsync();
        await using var receiver = await WebhookReceiver.StartAsync(new WebhookReceiverOptions());
        var ids = Enumerable.Range(1, prospects).Select(Feed.Id).ToList();
        await using (var store = Store.Create(database.Storage))
        {
            var now = DateTimeOffset.UtcNow;
            var secret = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
            await store.RegisterWebhookAsync(database.PartnerId, new WebhookRegistration(receiver.Url, secret, [], "json"), now, CancellationToken.None);
            receiver.SetSecret(Convert.ToBase64String(secret));
            await store.UpsertEnrollmentAsync(database.PartnerId, new EnrollmentRequest("anniversaries", EventTypes.ProspectJobStartAnniversary, ids[..20], null), now, CancellationToken.None);
            await store.UpsertEnrollmentAsync(database.PartnerId, new EnrollmentRequest("anniversaries_too", EventTypes.ProspectJobStartAnniversary, ids[20..], null), now, CancellationToken.None);
        }
        // Every other prospect started on this day one to five years ago; the rest the day after.
        var observedAt = DateTimeOffset.UtcNow.AddDays(-1).ToString("O", CultureInfo.InvariantCulture);
        var feed = ids.Select((id, n) => Feed.Line(id, observedAt, "Acme", start: (n % 2 == 0 ? today : today.AddDays(1)).AddYears(-1 - n % 5).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        var path = Path.Combine(Path.GetTempPath(), $"anniversaries-{Guid.NewGuid():N}.ndjson");
        await File.WriteAllLinesAsync(path, feed);
        var (exit, _, error) = await ServerUnderTest.RunVerbAsync(["ingest", path, .. database.Storage.Arguments()]);
        File.Delete(path);
        Assert.True(exit == 0, error);

        var servers = await ServerProcess.StartManyAsync(3, database.Storage, SharedDatabase.Settings(("Anniversaries:RunAtUtc", "00:00:00")));
        try
        {
            var day = today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            await SharedDatabase.WaitUntilAsync(async () => await database.CountAsync($"SELECT COUNT(*) FROM anniversary_sweeps WHERE day = '{day}'") == 1,
                TimeSpan.FromSeconds(60), () => Task.FromResult($"no process swept {day}"));
            Assert.Equal(prospects / 2, await database.CountAsync("SELECT COUNT(*) FROM events WHERE event_name = 'prospect_job_start_anniversary'"));
            Assert.Equal(prospects / 2, await database.CountAsync("SELECT COUNT(*) FROM deliveries"));
            await database.WaitForEveryDeliveryAsync(TimeSpan.FromSeconds(60));

            var requests = receiver.Requests;
            Assert.Equal(prospects / 2, requests.Count);
            Assert.All(requests, r => Assert.True(r.AnchorVerified && r.StandardVerified, $"Unverified delivery {r.WebhookId}"));
            Assert.Equal(prospects / 2, requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("event_id").GetString()).Distinct().Count());
            var sweeps = servers.SelectMany(s => s.Output.Split('\n').Where(l => l.Contains("Anniversary sweep of", StringComparison.Ordinal)).Select(l => $"{s.Name}: {l}")).ToList();
            Assert.True(sweeps.Count == 1, $"The day was swept {sweeps.Count} times:\n{string.Join('\n', sweeps)}");
        }
        finally
        {
            await Task.WhenAll(servers.Select(s => s.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task Enrollments_rewritten_while_three_indexers_run_and_events_arrive_get_each_event_once()
    {
        const int prospects = 200;
        const int enrollments = 20; // of 20 prospects each, every prospect in two: n*10+1 .. n*10+20, wrapping round
        var database = await SharedDatabase.CreateAsync();
        await using var receiver = await WebhookReceiver.StartAsync(new WebhookReceiverOptions());
        var servers = await ServerProcess.StartManyAsync(3, database.Storage, SharedDatabase.BaseSettings);
        try
        {
            await database.RegisterWebhookAsync(servers[2], receiver);
            var ids = Enumerable.Range(1, prospects).Select(Feed.Id).ToList();
            await database.IngestAsync(servers[0], [.. ids.Select(id => Feed.Line(id, "2026-10-01T00:00:00Z", "Acme"))]);
            var members = Enumerable.Range(0, enrollments).Select(n => Enumerable.Range(0, 20).Select(i => ids[(n * 10 + i) % prospects]).ToArray()).ToArray();
            var enrollmentIds = await Task.WhenAll(members.Select(async (chunk, n) =>
            {
                using var client = servers[n % 3].Client(database.PartnerKey);
                var created = await (await client.PostJsonAsync(HttpJson.EnrollmentsPath, EnrollmentBody(n, chunk))).ExpectAsync(200);
                return created.GetProperty("enrollment_id").GetString()!;
            }));

            // While the three indexers take turns, every enrollment is written again and again (re-added, replaced by the
            // same prospects: each write leaves it unindexed) and the events of the second snapshot are matched.
            using var ingested = new CancellationTokenSource();
            var rewrites = Task.Run(async () =>
            {
                var round = 0;
                while (!ingested.IsCancellationRequested)
                {
                    var n = round % enrollments;
                    using var client = servers[round++ % 3].Client(database.PartnerKey);
                    var response = n % 2 == 0
                        ? await client.PostJsonAsync(HttpJson.EnrollmentsPath, EnrollmentBody(n, members[n]))
                        : await client.SendJsonAsync(HttpMethod.Patch, HttpJson.EnrollmentsPath, EnrollmentBody(n, members[n], enrollmentIds[n]));
                    await response.ExpectAsync(200);
                }
                return round;
            });
            foreach (var (chunk, n) in ids.Chunk(10).Select((chunk, n) => (chunk, n)))
                await database.IngestAsync(servers[n % 2], [.. chunk.Select(id => Feed.Line(id, "2026-11-01T00:00:00Z", "Globex"))]);
            await ingested.CancelAsync();
            Assert.True(await rewrites > enrollments, "The enrollments were hardly rewritten while the events arrived");

            var expected = members.SelectMany((chunk, n) => chunk.Select(id => $"{id} scale_{n}")).Order(StringComparer.Ordinal).ToList();
            var matched = await database.RowsAsync("SELECT encode(e.prospect_id, 'hex'), d.enrollment_key FROM deliveries d JOIN events e ON e.event_id = d.event_id");
            Assert.Equal(expected, matched.Select(r => $"{r[0]} {r[1]}").Order(StringComparer.Ordinal));
            await database.WaitForEveryDeliveryAsync(TimeSpan.FromSeconds(90));
            var delivered = receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement)
                .Select(b => $"{b.GetProperty("entity_id").GetString()} {b.GetProperty("enrollment_key").GetString()}");
            Assert.Equal(expected, delivered.Order(StringComparer.Ordinal));

            // The index catches up, with each prospect's two enrollments once.
            await SharedDatabase.WaitUntilAsync(async () => await database.CountAsync("SELECT COUNT(*) FROM enrollments WHERE unindexed = 1") == 0,
                TimeSpan.FromSeconds(30), () => Task.FromResult("the indexers did not catch up"));
            Assert.Equal(prospects * 2, await database.CountAsync("SELECT COUNT(*) FROM prospect_enrollments"));
        }
        finally
        {
            await Task.WhenAll(servers.Select(s => s.DisposeAsync().AsTask()));
        }
    }

    private static string EnrollmentBody(int n, string[] prospects, string? enrollmentId = null) =>
        $$"""{{{(enrollmentId is null ? "" : $"\"enrollment_id\":\"{enrollmentId}\",")}}"enrollment_key":"scale_{{n}}","event_types":["prospect_changed_company"],"prospect_ids":[{{string.Join(',', prospects.Select(id => $"\"{id}\""))}}]}""";
}
