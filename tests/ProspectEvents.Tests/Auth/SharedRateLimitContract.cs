using System.Globalization;
using Microsoft.Extensions.Logging;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Auth;

/// <summary>
/// One key's rate limit held across three servers on one database (as three processes behind a balancer), over real
/// HTTP, once per backend: 60 requests per 10 s window, so the window slides in 1 s segments and a host takes 3 permits
/// at a time. The servers share one hand-driven clock.
/// </summary>
public abstract class SharedRateLimitContract(Backend backend) : IAsyncLifetime
{
    private const int Limit = 60;

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["RateLimiting:PermitsPerWindow"] = Limit.ToString(CultureInfo.InvariantCulture),
        ["RateLimiting:Window"] = "00:00:10",
    };

    private readonly LogCapture _log = new();
    private ServerUnderTest[] _hosts = [];

    private ManualClock Clock => _hosts[0].Clock;

    public async Task InitializeAsync()
    {
        var first = await ServerUnderTest.StartAsync(backend, Settings, b => b.Logging.AddProvider(_log));
        _hosts = [first, await ServerUnderTest.StartBesideAsync(first, Settings), await ServerUnderTest.StartBesideAsync(first, Settings)];
    }

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts) await host.DisposeAsync();
    }

    [Fact]
    public async Task Three_hosts_grant_a_key_its_limit_in_total_and_refuse_the_rest_with_Retry_After()
    {
        var key = await NewKeyAsync();

        var answers = await SpreadAsync(key, 180);

        var granted = answers.Where(a => a.Status == 200).ToList();
        Assert.InRange(granted.Count, Limit * 95 / 100, Limit);
        Assert.All(answers.Where(a => a.Status != 200), a =>
        {
            Assert.Equal(429, a.Status);
            Assert.InRange(a.RetryAfter!.Value, 1, 10);
        });
        Assert.Equal(3, granted.Select(a => a.Host).Distinct().Count()); // every host granted some of them
    }

    [Fact]
    public async Task Every_answer_of_every_host_carries_coherent_rate_limit_headers()
    {
        var key = await NewKeyAsync();

        var answers = await SpreadAsync(key, 120);

        Assert.All(answers, a =>
        {
            Assert.Equal(Limit, a.Limit);
            Assert.InRange(a.Reset, 1, 10);
            if (a.Status == 200) Assert.InRange(a.Remaining, 0, Limit - 1);
            else Assert.Equal((0, a.Reset), (a.Remaining, a.RetryAfter!.Value));
        });
        // Each grant of a host spends a permit of its own: no two of them claim the same number remaining.
        foreach (var host in answers.Where(a => a.Status == 200).GroupBy(a => a.Host))
        {
            Assert.Equal(host.Count(), host.Select(a => a.Remaining).Distinct().Count());
        }
    }

    [Fact]
    public async Task One_host_alone_counts_the_whole_limit_down_then_refuses()
    {
        var key = await NewKeyAsync();
        using var client = _hosts[0].Client(key);

        var answers = new List<Answer>();
        for (var i = 0; i < Limit + 5; i++) answers.Add(await Answer.OfAsync(0, await client.GetAsync(EnrollmentsPath)));

        Assert.Equal(Enumerable.Range(0, Limit).Select(i => Limit - 1 - i), answers.Take(Limit).Select(a => a.Remaining));
        Assert.All(answers.Take(Limit), a => Assert.Equal(200, a.Status));
        Assert.All(answers.Skip(Limit), a => Assert.Equal((429, 10), (a.Status, a.RetryAfter!.Value)));
        // The other hosts hear from the store that the window is full.
        using var other = _hosts[2].Client(key);
        await (await other.GetAsync(EnrollmentsPath)).ExpectAsync(429);
    }

    [Fact]
    public async Task A_new_window_gives_the_key_its_limit_again()
    {
        var key = await NewKeyAsync();
        await SpreadAsync(key, 120);

        Clock.Advance(TimeSpan.FromSeconds(10));
        var answers = await SpreadAsync(key, 120);

        Assert.InRange(answers.Count(a => a.Status == 200), Limit * 95 / 100, Limit);
    }

    [Fact]
    public async Task Permits_come_back_when_the_segment_that_took_them_leaves_the_window()
    {
        var key = await NewKeyAsync();
        Assert.All(await SpreadAsync(key, 30), a => Assert.Equal(200, a.Status));

        Clock.Advance(TimeSpan.FromSeconds(5));
        var later = await SpreadAsync(key, 60);
        Assert.InRange(later.Count(a => a.Status == 200), 27, 30); // the window holds the first 30 still
        Assert.All(later.Where(a => a.Status == 429), a => Assert.Equal(5, a.RetryAfter)); // when they leave it

        Clock.Advance(TimeSpan.FromSeconds(5));
        var freed = await SpreadAsync(key, 60);
        Assert.InRange(freed.Count(a => a.Status == 200), 27, 30); // the first 30 left; the next 30 have not
    }

    [Fact]
    public async Task A_host_whose_rate_limit_store_fails_limits_keys_on_its_own_and_logs_a_warning()
    {
        var key = await NewKeyAsync();
        _log.Drain();
        await _hosts[0].SqlAsync("DROP TABLE rate_limit_segments");
        using var client = _hosts[0].Client(key);

        var statuses = new List<int>();
        for (var i = 0; i < Limit + 5; i++) statuses.Add((int)(await client.GetAsync(EnrollmentsPath)).StatusCode);

        Assert.Equal(Enumerable.Repeat(200, Limit).Concat(Enumerable.Repeat(429, 5)), statuses); // the whole limit, of this host alone
        Assert.Contains(_log.Drain(), entry => entry.EventId.Id == 60 && entry.Level == LogLevel.Warning);

        // Once the store answers again, the host counts in it again.
        await _hosts[0].SqlAsync(_hosts[0].Store.Migrations().Single(m => m.Version == 14).Sql);
        Clock.Advance(TimeSpan.FromSeconds(10));
        await (await client.GetAsync(EnrollmentsPath)).ExpectAsync(200);
        Assert.Equal(3L, Convert.ToInt64(await _hosts[0].SqlAsync("SELECT SUM(taken) FROM rate_limit_segments"), CultureInfo.InvariantCulture));
    }

    private async Task<string> NewKeyAsync() =>
        (await _hosts[0].Store.CreatePartnerAsync("busy", KeyScope.Partner, Clock.GetUtcNow(), CancellationToken.None)).Secret;

    /// <summary>Sends <paramref name="count"/> requests with <paramref name="key"/>, request i to host i mod 3, six at a time.</summary>
    private async Task<List<Answer>> SpreadAsync(string key, int count)
    {
        var clients = _hosts.Select(h => h.Client(key)).ToArray();
        try
        {
            var answers = new Answer[count];
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 6 }, async (i, cancellationToken) =>
                answers[i] = await Answer.OfAsync(i % clients.Length, await clients[i % clients.Length].GetAsync(EnrollmentsPath, cancellationToken)));
            return [.. answers];
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
        }
    }

    private sealed record Answer(int Host, int Status, int Limit, int Remaining, int Reset, int? RetryAfter)
    {
        public static async Task<Answer> OfAsync(int host, HttpResponseMessage response)
        {
            using (response)
            {
                await response.Content.ReadAsStringAsync();
                return new Answer(host, (int)response.StatusCode, Header(response, "X-RateLimit-Limit"), Header(response, "X-RateLimit-Remaining"),
                    Header(response, "X-RateLimit-Reset"), (int?)response.Headers.RetryAfter?.Delta?.TotalSeconds);
            }
        }

        private static int Header(HttpResponseMessage response, string name) =>
            int.Parse(response.Headers.GetValues(name).Single(), CultureInfo.InvariantCulture);
    }
}

public sealed class SqliteSharedRateLimitTests() : SharedRateLimitContract(Backend.Sqlite);

public sealed class PostgresSharedRateLimitTests() : SharedRateLimitContract(Backend.Postgres);
