using System.Net;
using ProspectEvents.Tests.Infrastructure;

namespace ProspectEvents.Tests.ScaleOut;

/// <summary>
/// A key's rate limit holds in total across three real server processes on one PostgreSQL database: requests spread
/// over them get the configured permits, within a few percent, and the rest are refused with 429 and Retry-After.
/// </summary>
[Collection(ScaleOutCollection.Name)]
public sealed class SharedRateLimitProcessTests
{
    private const int Permits = 100;

    [Fact]
    public async Task Three_processes_grant_a_key_its_limit_in_total_not_three_times_it()
    {
        var database = await SharedDatabase.CreateAsync();
        var servers = await ServerProcess.StartManyAsync(3, database.Storage, SharedDatabase.Settings(
            ("RateLimiting:PermitsPerWindow", Permits.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("RateLimiting:Window", "00:10:00")));
        try
        {
            var clients = servers.Select(s => s.Client(database.PartnerKey)).ToArray();
            var granted = 0;
            var refused = new List<HttpResponseMessage>();
            // Three times the limit, dealt round-robin, a few at a time on each process.
            for (var round = 0; round < 3 * Permits / 6; round++)
            {
                var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => clients[i % 3].GetAsync(HttpJson.EnrollmentsPath)));
                granted += answers.Count(a => a.IsSuccessStatusCode);
                refused.AddRange(answers.Where(a => !a.IsSuccessStatusCode));
            }

            Assert.InRange(granted, Permits * 95 / 100, Permits);
            Assert.Equal(3 * Permits - granted, refused.Count);
            Assert.All(refused, r =>
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode);
                Assert.True(r.Headers.RetryAfter?.Delta > TimeSpan.Zero, "A 429 without Retry-After");
            });
        }
        finally
        {
            await Task.WhenAll(servers.Select(s => s.DisposeAsync().AsTask()));
        }
    }
}
