using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Enrollments;

/// <summary>The enrollment endpoints over real HTTP; runs once per storage backend.</summary>
public abstract class EnrollmentApiContract(Backend backend) : IAsyncLifetime
{
    protected const string DanaId = "20ae6cbf564ee683e66685e429844a5ff8ffc30f";
    protected const string EliId = "4c485f009d59e319dc039cdf3e935b85014e6a33";


    protected ServerUnderTest Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await ServerUnderTest.StartAsync(backend);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    protected static string Id(int n) => n.ToString("x40", System.Globalization.CultureInfo.InvariantCulture);

    protected static string Enrollment(string key, string[] prospects, string types = "\"prospect_changed_role\"", string extra = "") =>
        $$"""{"enrollment_key":"{{key}}","event_types":[{{types}}],"prospect_ids":[{{string.Join(",", prospects.Select(p => $"\"{p}\""))}}]{{extra}}}""";

    protected static async Task<JsonElement[]> ListAsync(HttpClient client, string query = "")
    {
        var body = await (await client.GetAsync(EnrollmentsPath + query)).ExpectAsync(200);
        return body.GetProperty("enrollments").EnumerateArray().ToArray();
    }

    [Fact]
    public async Task TheSeedExampleSucceedsAsWrittenWithTheUppercaseHeader()
    {
        using var client = new HttpClient { BaseAddress = Server.Address };
        var request = new HttpRequestMessage(HttpMethod.Post, EnrollmentsPath) { Content = Body(Seed.EnrollmentExample) };
        request.Headers.Add("API_KEY", Server.AdminKey);

        var response = await client.SendAsync(request);

        var body = await response.ExpectAsync(200);
        Assert.Equal("tech_executives_monitor", body.GetProperty("enrollment_key").GetString());
        Assert.Matches("^en_[0-9a-f]{16}$", body.GetProperty("enrollment_id").GetString());
        var context = body.GetProperty("response_context");
        Assert.Equal("success", context.GetProperty("request_status").GetString());
        Assert.Equal(response.Headers.GetValues("X-Correlation-ID").Single(), context.GetProperty("correlation_id").GetString());
        Assert.InRange(context.GetProperty("time_took_in_seconds").GetDouble(), 0.0, 10.0);
    }

    [Fact]
    public async Task TheSeedExampleSucceedsWithTheLowercaseHeaderAndIsListed()
    {
        using var client = Server.Client(Server.AdminKey);
        var created = await (await client.PostJsonAsync(EnrollmentsPath, Seed.EnrollmentExample)).ExpectAsync(200);

        var listed = Assert.Single(await ListAsync(client));
        Assert.Equal(created.GetProperty("enrollment_id").GetString(), listed.GetProperty("enrollment_id").GetString());
        Assert.Equal("tech_executives_monitor", listed.GetProperty("enrollment_key").GetString());
        Assert.Equal(["prospect_changed_role", "prospect_changed_company"], listed.GetProperty("event_types").Strings());
        Assert.Equal([DanaId, EliId], listed.GetProperty("prospect_ids").Strings().Order());
    }

    [Fact]
    public async Task ANullRequestContextIsAccepted()
    {
        using var client = Server.Client(Server.AdminKey);
        await (await client.PostJsonAsync(EnrollmentsPath, Enrollment("with_context", [DanaId], extra: ",\"request_context\":null"))).ExpectAsync(200);
        await (await client.PostJsonAsync(EnrollmentsPath, Enrollment("with_object", [DanaId], extra: ",\"request_context\":{\"source\":\"crm\"}"))).ExpectAsync(200);
        Assert.Equal(2, (await ListAsync(client)).Length);
    }

    [Fact]
    public async Task ABodyWithoutAJsonContentTypeIsStillReadAsJson()
    {
        using var client = Server.Client(Server.AdminKey);
        var response = await client.PostAsync(EnrollmentsPath, new StringContent(Seed.EnrollmentExample)); // text/plain
        await response.ExpectAsync(200);
    }

    [Fact]
    public async Task ReAddingTheSameKeyKeepsTheIdAddsProspectsAndUnionsEventTypes()
    {
        using var client = Server.Client(Server.AdminKey);
        var first = await (await client.PostJsonAsync(EnrollmentsPath, Enrollment("reused", [Id(1), Id(2)], "\"prospect_changed_role\""))).ExpectAsync(200);
        var second = await (await client.PostJsonAsync(EnrollmentsPath, Enrollment("reused", [Id(2), Id(3)], "\"prospect_job_start_anniversary\""))).ExpectAsync(200);

        Assert.Equal(first.GetProperty("enrollment_id").GetString(), second.GetProperty("enrollment_id").GetString());
        var listed = Assert.Single(await ListAsync(client));
        Assert.Equal([Id(1), Id(2), Id(3)], listed.GetProperty("prospect_ids").Strings().Order());
        Assert.Equal(["prospect_changed_role", "prospect_job_start_anniversary"], listed.GetProperty("event_types").Strings());
    }

    [Fact]
    public async Task DuplicateProspectIdsInOneRequestAreCollapsed()
    {
        using var client = Server.Client(Server.AdminKey);
        await (await client.PostJsonAsync(EnrollmentsPath, Enrollment("dupes", [Id(7), Id(7), Id(8)], "\"prospect_changed_role\",\"prospect_changed_role\""))).ExpectAsync(200);

        var listed = Assert.Single(await ListAsync(client));
        Assert.Equal([Id(7), Id(8)], listed.GetProperty("prospect_ids").Strings().Order());
        Assert.Equal(["prospect_changed_role"], listed.GetProperty("event_types").Strings());
    }

    [Fact]
    public async Task ListingReturnsEveryEnrollmentByDefaultAndPagesOnRequest()
    {
        using var client = Server.Client(Server.AdminKey);
        for (var i = 0; i < 5; i++)
        {
            await (await client.PostJsonAsync(EnrollmentsPath, Enrollment($"key_{i}", [Id(i + 1)]))).ExpectAsync(200);
            Server.Clock.Advance(TimeSpan.FromSeconds(1)); // creation order is listing order
        }

        Assert.Equal(["key_0", "key_1", "key_2", "key_3", "key_4"], (await ListAsync(client)).Select(e => e.GetProperty("enrollment_key").GetString()));

        var page = await (await client.GetAsync(EnrollmentsPath + "?page=2&page_size=2")).ExpectAsync(200);
        Assert.Equal(["key_2", "key_3"], page.GetProperty("enrollments").EnumerateArray().Select(e => e.GetProperty("enrollment_key").GetString()));
        Assert.True(page.GetProperty("has_more").GetBoolean());
        var last = await (await client.GetAsync(EnrollmentsPath + "?page=3&page_size=2")).ExpectAsync(200);
        Assert.Single(last.GetProperty("enrollments").EnumerateArray());
        Assert.False(last.GetProperty("has_more").GetBoolean());
    }

    [Theory]
    [InlineData("?page=0", "page", "greater_than_equal")]
    [InlineData("?page_size=1001", "page_size", "less_than_equal")]
    [InlineData("?page=two", "page", "int_parsing")]
    public async Task BadPagingParametersAreRejected(string query, string field, string type)
    {
        using var client = Server.Client(Server.AdminKey);
        var body = await (await client.GetAsync(EnrollmentsPath + query)).ExpectAsync(422);
        var problem = Assert.Single(body.GetProperty("detail").EnumerateArray());
        Assert.Equal(["query", field], problem.GetProperty("loc").Strings());
        Assert.Equal(type, problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task PatchReplacesTheEnrollmentWhole()
    {
        using var client = Server.Client(Server.AdminKey);
        var created = await (await client.PostJsonAsync(EnrollmentsPath, Enrollment("before", [Id(1), Id(2)], "\"prospect_changed_role\",\"prospect_changed_company\""))).ExpectAsync(200);
        var id = created.GetProperty("enrollment_id").GetString();

        var patched = await (await client.SendJsonAsync(HttpMethod.Patch, EnrollmentsPath,
            $$"""{"enrollment_id":"{{id}}","enrollment_key":"after","event_types":["prospect_job_start_anniversary"],"prospect_ids":["{{Id(3)}}"]}"""))
            .ExpectAsync(200);

        Assert.Equal(id, patched.GetProperty("enrollment_id").GetString());
        Assert.Equal("after", patched.GetProperty("enrollment_key").GetString());
        var listed = Assert.Single(await ListAsync(client));
        Assert.Equal("after", listed.GetProperty("enrollment_key").GetString());
        Assert.Equal(["prospect_job_start_anniversary"], listed.GetProperty("event_types").Strings());
        Assert.Equal([Id(3)], listed.GetProperty("prospect_ids").Strings());
    }

    [Fact]
    public async Task PatchOfAnUnknownEnrollmentIsNotFound()
    {
        using var client = Server.Client(Server.AdminKey);
        var body = await (await client.SendJsonAsync(HttpMethod.Patch, EnrollmentsPath,
            $$"""{"enrollment_id":"en_0000000000000000","enrollment_key":"nothing","event_types":["prospect_changed_role"],"prospect_ids":["{{Id(1)}}"]}"""))
            .ExpectAsync(404);
        Assert.Contains("en_0000000000000000", body.GetProperty("detail").GetString());
        Assert.Matches("^[0-9a-f]{32}$", body.GetProperty("correlation_id").GetString());
    }

    [Fact]
    public async Task PatchToAKeyAnotherEnrollmentHasIsAConflictAndChangesNothing()
    {
        using var client = Server.Client(Server.AdminKey);
        await (await client.PostJsonAsync(EnrollmentsPath, Enrollment("first", [Id(1)]))).ExpectAsync(200);
        var second = await (await client.PostJsonAsync(EnrollmentsPath, Enrollment("second", [Id(2)]))).ExpectAsync(200);
        var before = await DatabaseSnapshot.TakeAsync(Server.Store);

        await (await client.SendJsonAsync(HttpMethod.Patch, EnrollmentsPath,
            $$"""{"enrollment_id":"{{second.GetProperty("enrollment_id").GetString()}}","enrollment_key":"first","event_types":["prospect_changed_role"],"prospect_ids":["{{Id(3)}}"]}"""))
            .ExpectAsync(409);

        Assert.Equal(before, await DatabaseSnapshot.TakeAsync(Server.Store));
    }

    [Fact]
    public async Task AFailingWriteAmongConcurrentOnesFailsAloneAndTheOthersAreKept()
    {
        using var client = Server.Client(Server.AdminKey);
        await (await client.PostJsonAsync(EnrollmentsPath, Enrollment("taken", [Id(1)]))).ExpectAsync(200);
        var victim = await (await client.PostJsonAsync(EnrollmentsPath, Enrollment("victim", [Id(2)]))).ExpectAsync(200);
        var conflicting = $$"""{"enrollment_id":"{{victim.GetProperty("enrollment_id").GetString()}}","enrollment_key":"taken","event_types":["prospect_changed_role"],"prospect_ids":["{{Id(99)}}"]}""";

        var posts = Enumerable.Range(0, 30).Select(i => client.PostJsonAsync(EnrollmentsPath, Enrollment($"batch_{i}", [Id(100 + i)])));
        var patches = Enumerable.Range(0, 10).Select(_ => client.SendJsonAsync(HttpMethod.Patch, EnrollmentsPath, conflicting));
        var responses = await Task.WhenAll(posts.Concat(patches));

        Assert.Equal(30, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(10, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        var listed = await ListAsync(client);
        Assert.Equal(32, listed.Length);
        Assert.Equal([Id(2)], listed.Single(e => e.GetProperty("enrollment_key").GetString() == "victim").GetProperty("prospect_ids").Strings());
    }

    [Fact]
    public async Task DeleteRemovesTheEnrollmentAndItsProspects()
    {
        using var client = Server.Client(Server.AdminKey);
        var created = await (await client.PostJsonAsync(EnrollmentsPath, Seed.EnrollmentExample)).ExpectAsync(200);

        var deleted = await (await client.SendJsonAsync(HttpMethod.Delete, EnrollmentsPath,
            $$"""{"enrollment_id":"{{created.GetProperty("enrollment_id").GetString()}}"}""")).ExpectAsync(200);

        Assert.Equal("success", deleted.GetProperty("status").GetString());
        Assert.Empty(await ListAsync(client));
        Assert.DoesNotContain(DanaId.ToUpperInvariant(), await DatabaseSnapshot.TakeAsync(Server.Store));
        await (await client.SendJsonAsync(HttpMethod.Delete, EnrollmentsPath,
            $$"""{"enrollment_id":"{{created.GetProperty("enrollment_id").GetString()}}"}""")).ExpectAsync(404);
    }

    [Fact]
    public async Task APartnerCannotSeeChangeOrDeleteAnotherPartnersEnrollment()
    {
        var (_, alice) = await Server.NewPartnerAsync("alice");
        var (_, bob) = await Server.NewPartnerAsync("bob");
        var created = await (await alice.PostJsonAsync(EnrollmentsPath, Seed.EnrollmentExample)).ExpectAsync(200);
        var id = created.GetProperty("enrollment_id").GetString();
        var before = await DatabaseSnapshot.TakeAsync(Server.Store);

        Assert.Empty(await ListAsync(bob));
        await (await bob.SendJsonAsync(HttpMethod.Patch, EnrollmentsPath,
            $$"""{"enrollment_id":"{{id}}","enrollment_key":"stolen","event_types":["prospect_changed_role"],"prospect_ids":["{{Id(9)}}"]}""")).ExpectAsync(404);
        await (await bob.SendJsonAsync(HttpMethod.Delete, EnrollmentsPath, $$"""{"enrollment_id":"{{id}}"}""")).ExpectAsync(404);

        Assert.Equal(before, await DatabaseSnapshot.TakeAsync(Server.Store));
        Assert.Single(await ListAsync(alice));
    }

    [Fact]
    public async Task TheSameKeyUnderTwoPartnersNamesTwoSeparateEnrollments()
    {
        var (_, alice) = await Server.NewPartnerAsync("alice");
        var (_, bob) = await Server.NewPartnerAsync("bob");

        var a = await (await alice.PostJsonAsync(EnrollmentsPath, Enrollment("shared_key", [Id(1)]))).ExpectAsync(200);
        var b = await (await bob.PostJsonAsync(EnrollmentsPath, Enrollment("shared_key", [Id(2)]))).ExpectAsync(200);

        Assert.NotEqual(a.GetProperty("enrollment_id").GetString(), b.GetProperty("enrollment_id").GetString());
        Assert.Equal([Id(1)], Assert.Single(await ListAsync(alice)).GetProperty("prospect_ids").Strings());
        Assert.Equal([Id(2)], Assert.Single(await ListAsync(bob)).GetProperty("prospect_ids").Strings());
    }

    [Fact]
    public async Task FiftyConcurrentPostsOfOneNewKeyMakeOneEnrollmentWithEveryProspect()
    {
        using var client = Server.Client(Server.AdminKey);
        var posts = Enumerable.Range(1, 50).Select(i => client.PostJsonAsync(EnrollmentsPath, Enrollment("race", [Id(i), Id(1000 + i % 5)])));

        var responses = await Task.WhenAll(posts);

        var ids = new HashSet<string?>();
        foreach (var response in responses) ids.Add((await response.ExpectAsync(200)).GetProperty("enrollment_id").GetString());
        Assert.Single(ids);
        var listed = Assert.Single(await ListAsync(client));
        var expected = Enumerable.Range(1, 50).Select(Id).Concat(Enumerable.Range(0, 5).Select(i => Id(1000 + i))).Order();
        Assert.Equal(expected, listed.GetProperty("prospect_ids").Strings().Order());
    }

    [Fact]
    public async Task ProspectsEnrolledWithATtlStopBeingListedWhenItExpires()
    {
        using var client = Server.Client(Server.AdminKey);
        await (await client.PostJsonAsync(EnrollmentsPath, Enrollment("ttl_monitor", [Id(1)], extra: ",\"ttl_days\":30"))).ExpectAsync(200);
        await (await client.PostJsonAsync(EnrollmentsPath, Enrollment("ttl_monitor", [Id(2)]))).ExpectAsync(200); // no expiry

        Server.Clock.Advance(TimeSpan.FromDays(30) - TimeSpan.FromSeconds(1));
        Assert.Equal([Id(1), Id(2)], Assert.Single(await ListAsync(client)).GetProperty("prospect_ids").Strings().Order());

        Server.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([Id(2)], Assert.Single(await ListAsync(client)).GetProperty("prospect_ids").Strings());
    }

    [Fact]
    public async Task ReAddingAProspectRefreshesItsExpiry()
    {
        using var client = Server.Client(Server.AdminKey);
        await (await client.PostJsonAsync(EnrollmentsPath, Enrollment("refresh", [Id(1)], extra: ",\"ttl_days\":10"))).ExpectAsync(200);
        Server.Clock.Advance(TimeSpan.FromDays(9));
        await (await client.PostJsonAsync(EnrollmentsPath, Enrollment("refresh", [Id(1)], extra: ",\"ttl_days\":10"))).ExpectAsync(200);

        Server.Clock.Advance(TimeSpan.FromDays(5)); // 14 days after the first add, 5 after the second
        Assert.Equal([Id(1)], Assert.Single(await ListAsync(client)).GetProperty("prospect_ids").Strings());
    }

    [Fact]
    public async Task ABodyOverOneMebibyteIsRejectedWith413AndChangesNothing()
    {
        using var client = Server.Client(Server.AdminKey);
        var before = await DatabaseSnapshot.TakeAsync(Server.Store);
        var huge = Enrollment("huge", [Id(1)], extra: $",\"request_context\":{{\"pad\":\"{new string('x', 2 * 1024 * 1024)}\"}}");

        var body = await (await client.PostJsonAsync(EnrollmentsPath, huge)).ExpectAsync(413);

        Assert.Contains("larger than", body.GetProperty("detail").GetString());
        Assert.Equal(before, await DatabaseSnapshot.TakeAsync(Server.Store));
    }

    [Fact]
    public async Task AChunkedBodyOverOneMebibyteIsRejectedWith413Too()
    {
        using var client = Server.Client(Server.AdminKey);
        var huge = Enrollment("huge", [Id(1)], extra: $",\"request_context\":{{\"pad\":\"{new string('x', 2 * 1024 * 1024)}\"}}");
        var content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(huge)));
        content.Headers.ContentType = JsonType;
        var request = new HttpRequestMessage(HttpMethod.Post, EnrollmentsPath) { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(await ListAsync(client));
    }

    [Fact]
    public async Task EveryResponseCarriesTheCallersCorrelationIdWhenGiven()
    {
        using var client = Server.Client(Server.AdminKey);
        var request = new HttpRequestMessage(HttpMethod.Get, EnrollmentsPath);
        request.Headers.Add("X-Correlation-ID", "trace-1234");

        var response = await client.SendAsync(request);

        var body = await response.ExpectAsync(200);
        Assert.Equal("trace-1234", response.Headers.GetValues("X-Correlation-ID").Single());
        Assert.Equal("trace-1234", body.GetProperty("response_context").GetProperty("correlation_id").GetString());
    }
}

public sealed class SqliteEnrollmentApiTests() : EnrollmentApiContract(Backend.Sqlite);

public sealed class PostgresEnrollmentApiTests() : EnrollmentApiContract(Backend.Postgres);
