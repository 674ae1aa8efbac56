using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Auth;

/// <summary>Keys, scopes and the per-key rate limit, over real HTTP, once per backend.</summary>
public abstract class AuthContract(Backend backend) : IAsyncLifetime
{
    private ServerUnderTest _server = null!;

    public async Task InitializeAsync() => _server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?>
    {
        ["RateLimiting:PermitsPerWindow"] = "5",
        ["RateLimiting:FailedAuthPermitsPerWindow"] = "10",
        ["RateLimiting:Window"] = "00:01:00",
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task ARequestWithoutAKeyIsUnauthorized()
    {
        using var client = _server.Client(null);
        var body = await (await client.GetAsync(EnrollmentsPath)).ExpectAsync(401);
        Assert.Contains("api_key", body.GetProperty("detail").GetString());
        Assert.Matches("^[0-9a-f]{32}$", body.GetProperty("correlation_id").GetString());
    }

    [Theory]
    [InlineData("pek_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("not-a-key")]
    public async Task AnUnknownKeyIsUnauthorized(string key)
    {
        using var client = _server.Client(key);
        await (await client.GetAsync(EnrollmentsPath)).ExpectAsync(401);
    }

    [Fact]
    public async Task ARevokedKeyStopsWorkingAtOnce()
    {
        var issued = await _server.Store.CreatePartnerAsync("revoked", KeyScope.Partner, _server.Clock.GetUtcNow(), CancellationToken.None);
        using var client = _server.Client(issued.Secret);
        await (await client.GetAsync(EnrollmentsPath)).ExpectAsync(200);

        Assert.True(await _server.Store.RevokeKeyAsync(issued.KeyId, _server.Clock.GetUtcNow(), CancellationToken.None));

        await (await client.GetAsync(EnrollmentsPath)).ExpectAsync(401);
    }

    [Fact]
    public async Task APartnerKeyCannotUseTheOperatorApi()
    {
        var (_, partner) = await _server.NewPartnerAsync();
        await (await partner.GetAsync("/v1/admin/stats")).ExpectAsync(403);
        await (await partner.PostJsonAsync("/v1/admin/partners", """{"name":"sneaky"}""")).ExpectAsync(403);
    }

    [Fact]
    public async Task AnAdminKeyCreatesPartnersWhoseKeysWork()
    {
        using var admin = _server.Client(_server.AdminKey);
        var created = await (await admin.PostJsonAsync("/v1/admin/partners", """{"name":"globex"}""")).ExpectAsync(200);
        Assert.Matches("^pa_[0-9a-f]{16}$", created.GetProperty("partner_id").GetString());
        Assert.Equal("partner", created.GetProperty("scope").GetString());

        using var partner = _server.Client(created.GetProperty("api_key").GetString());
        await (await partner.GetAsync(EnrollmentsPath)).ExpectAsync(200);

        var second = await (await admin.PostJsonAsync($"/v1/admin/partners/{created.GetProperty("partner_id").GetString()}/keys", """{"scope":"admin"}""")).ExpectAsync(200);
        Assert.Equal("admin", second.GetProperty("scope").GetString());
        await (await admin.PostJsonAsync("/v1/admin/partners/pa_0000000000000000/keys", "{}")).ExpectAsync(404);
        var stats = await (await admin.GetAsync("/v1/admin/stats")).ExpectAsync(200);
        Assert.Equal(2, stats.GetProperty("partners").GetInt64());
    }

    [Fact]
    public async Task TheRateLimitAnswers429WithRetryAfterOnceTheWindowIsFull()
    {
        var (_, client) = await _server.NewPartnerAsync();
        for (var i = 5; i >= 1; i--)
        {
            var ok = await client.GetAsync(EnrollmentsPath);
            await ok.ExpectAsync(200);
            Assert.Equal("5", ok.Headers.GetValues("X-RateLimit-Limit").Single());
            Assert.Equal((i - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), ok.Headers.GetValues("X-RateLimit-Remaining").Single());
            _server.Clock.Advance(TimeSpan.FromSeconds(10));
        }

        var limited = await client.GetAsync(EnrollmentsPath);

        var body = await limited.ExpectAsync(429);
        Assert.Contains("Rate limit", body.GetProperty("detail").GetString());
        // The oldest request was 50 s ago, so a permit frees up in 10 s.
        Assert.Equal(TimeSpan.FromSeconds(10), limited.Headers.RetryAfter!.Delta);
        Assert.Equal("0", limited.Headers.GetValues("X-RateLimit-Remaining").Single());

        _server.Clock.Advance(TimeSpan.FromSeconds(10));
        await (await client.GetAsync(EnrollmentsPath)).ExpectAsync(200);
    }

    [Fact]
    public async Task EachKeyHasItsOwnRateLimit()
    {
        var (_, first) = await _server.NewPartnerAsync("first");
        var (_, second) = await _server.NewPartnerAsync("second");
        for (var i = 0; i < 5; i++) await (await first.GetAsync(EnrollmentsPath)).ExpectAsync(200);

        await (await first.GetAsync(EnrollmentsPath)).ExpectAsync(429);
        await (await second.GetAsync(EnrollmentsPath)).ExpectAsync(200);
    }

    [Fact]
    public async Task ARateLimitedRequestChangesNothing()
    {
        var (_, client) = await _server.NewPartnerAsync();
        for (var i = 0; i < 5; i++) await (await client.GetAsync(EnrollmentsPath)).ExpectAsync(200);
        var before = await DatabaseSnapshot.TakeAsync(_server.Store);

        await (await client.PostJsonAsync(EnrollmentsPath, """{"enrollment_key":"late","event_types":["prospect_changed_role"],"prospect_ids":["20ae6cbf564ee683e66685e429844a5ff8ffc30f"]}""")).ExpectAsync(429);

        Assert.Equal(before, await DatabaseSnapshot.TakeAsync(_server.Store));
    }

    [Fact]
    public async Task AKeyGuessingLoopIsAnswered429AfterItsFailuresAndNoRealKeyPaysForIt()
    {
        var (_, real) = await _server.NewPartnerAsync();
        using var guesser = _server.Client(null);
        var statuses = new List<int>();
        for (var i = 0; i < 300; i++)
        {
            using var guess = new HttpRequestMessage(HttpMethod.Get, EnrollmentsPath);
            guess.Headers.Add("api_key", $"pek_{i:D43}");
            statuses.Add((int)(await guesser.SendAsync(guess)).StatusCode);
        }
        Assert.Equal(Enumerable.Repeat(401, 10).Concat(Enumerable.Repeat(429, 290)), statuses);

        // A limited address is refused before its key is looked up, so the right guess would not get through either.
        var limited = await real.GetAsync(EnrollmentsPath);
        await limited.ExpectAsync(429);
        Assert.Equal(TimeSpan.FromSeconds(60), limited.Headers.RetryAfter!.Delta);

        _server.Clock.Advance(TimeSpan.FromSeconds(60));
        var ok = await real.GetAsync(EnrollmentsPath);
        await ok.ExpectAsync(200);
        Assert.Equal("4", ok.Headers.GetValues("X-RateLimit-Remaining").Single()); // the flood used none of its permits
    }

    [Fact]
    public async Task RequestsWithoutAKeyCountAsFailedAuthentications()
    {
        using var client = _server.Client(null);
        for (var i = 0; i < 10; i++) await (await client.GetAsync(EnrollmentsPath)).ExpectAsync(401);
        await (await client.GetAsync(EnrollmentsPath)).ExpectAsync(429);
    }
}

public sealed class SqliteAuthTests() : AuthContract(Backend.Sqlite);

public sealed class PostgresAuthTests() : AuthContract(Backend.Postgres);
