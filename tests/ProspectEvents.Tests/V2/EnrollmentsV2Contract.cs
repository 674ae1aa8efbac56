using System.Text.Json;
using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;
using static ProspectEvents.Tests.V2.V2Json;

namespace ProspectEvents.Tests.V2;

/// <summary>
/// <c>/v2/prospects/events/enrollments</c> as docs/api.md ("Enrollments in v2") describes it, over real HTTP,
/// once per backend: enrollments bound to a webhook, one set of enrollments seen through both API versions.
/// </summary>
public abstract class EnrollmentsV2Contract(Backend backend) : IAsyncLifetime
{
    private const string Url = "https://93.184.216.34/hooks";
    private ServerUnderTest _server = null!;

    public async Task InitializeAsync() =>
        _server = await ServerUnderTest.StartAsync(backend, new Dictionary<string, string?> { ["Webhooks:AllowPrivateNetworks"] = "true", ["Roles"] = "api" });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Id(int n) => Feed.Id(n);

    private static string PathOf(string enrollmentId) => $"{EnrollmentsV2Path}/{enrollmentId}";

    private async Task<(string Partner, HttpClient Client, string Webhook)> PartnerWithWebhookAsync(string name = "acme")
    {
        var (partner, client) = await _server.NewPartnerAsync(name);
        return (partner, client, await CreateWebhookIdAsync(client, "main", Url));
    }

    private static async Task<JsonElement> CreateAsync(HttpClient client, string body, int status = 201)
    {
        var response = await (await client.PostJsonAsync(EnrollmentsV2Path, body)).ExpectAsync(status);
        if (status is 200 or 201) AssertV2Context(response);
        return response;
    }

    private static async Task<JsonElement> PatchAsync(HttpClient client, string enrollmentId, string body, int status = 200)
    {
        var response = await (await client.SendJsonAsync(HttpMethod.Patch, PathOf(enrollmentId), body)).ExpectAsync(status);
        if (status == 200) AssertV2Context(response);
        return response;
    }

    /// <summary>A v1 POST of one prospect under <paramref name="key"/>; returns the enrollment id.</summary>
    private static async Task<string> EnrollV1Async(HttpClient client, string key, string eventType, string prospect) =>
        (await (await client.PostJsonAsync(EnrollmentsPath,
            $$"""{"enrollment_key":"{{key}}","event_types":["{{eventType}}"],"prospect_ids":["{{prospect}}"]}""")).ExpectAsync(200))
            .GetProperty("enrollment_id").GetString()!;

    private static async Task<JsonElement> OnlyAsync(HttpClient client) => Assert.Single(await ListEnrollmentsV2Async(client));

    private static async Task<JsonElement[]> ListV1Async(HttpClient client)
    {
        var body = await (await client.GetAsync(EnrollmentsPath)).ExpectAsync(200);
        AssertV1Context(body);
        return body.GetProperty("enrollments").EnumerateArray().ToArray();
    }

    // ---- create ----

    [Fact]
    public async Task CreatingAnswers201WithTheEnrollmentBoundToItsWebhookAndActive()
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();

        var created = await CreateAsync(client, EnrollmentV2("tech_execs", webhook, [Feed.Dana, Feed.Eli], "\"prospect_changed_role\",\"prospect_changed_company\""));

        Assert.Equal(["enrollment_id", "enrollment_key", "response_context", "status", "webhook_id"], created.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("tech_execs", created.GetProperty("enrollment_key").GetString());
        var id = created.GetProperty("enrollment_id").GetString()!;
        Assert.Matches("^en_[0-9a-f]{16}$", id);
        Assert.Equal(webhook, created.GetProperty("webhook_id").GetString());
        Assert.Equal("active", created.GetProperty("status").GetString());
        var listed = await OnlyAsync(client);
        Assert.Equal(["enrollment_id", "enrollment_key", "event_types", "prospect_ids", "status", "webhook_id"], listed.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(id, listed.GetProperty("enrollment_id").GetString());
        Assert.Equal(webhook, listed.GetProperty("webhook_id").GetString());
        Assert.Equal("active", listed.GetProperty("status").GetString());
        Assert.Equal(["prospect_changed_company", "prospect_changed_role"], listed.GetProperty("event_types").Strings().Order());
        Assert.Equal(new[] { Feed.Dana, Feed.Eli }.Order(), listed.GetProperty("prospect_ids").Strings().Order());
    }

    [Fact]
    public async Task TheSameKeyWithTheSameWebhookAnswers200AddsTheProspectsAndUnionsTheTypes()
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();
        var first = await CreateAsync(client, EnrollmentV2("reused", webhook, [Id(1), Id(2)]));

        var second = await CreateAsync(client, EnrollmentV2("reused", webhook, [Id(2), Id(3)], "\"prospect_job_start_anniversary\""), 200);

        Assert.Equal(first.GetProperty("enrollment_id").GetString(), second.GetProperty("enrollment_id").GetString());
        Assert.Equal(webhook, second.GetProperty("webhook_id").GetString());
        Assert.Equal("active", second.GetProperty("status").GetString());
        var listed = await OnlyAsync(client);
        Assert.Equal([Id(1), Id(2), Id(3)], listed.GetProperty("prospect_ids").Strings().Order());
        Assert.Equal(["prospect_changed_role", "prospect_job_start_anniversary"], listed.GetProperty("event_types").Strings().Order());
    }

    [Fact]
    public async Task TheSameKeyWithAnotherWebhookIsAConflictAndChangesNothing()
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();
        var other = await CreateWebhookIdAsync(client, "other", Url + "/other");
        await CreateAsync(client, EnrollmentV2("bound", webhook, [Id(1)]));

        var error = await CreateAsync(client, EnrollmentV2("bound", other, [Id(2)], "\"prospect_changed_company\""), 409);

        Assert.Contains("bound", error.GetProperty("detail").GetString());
        var listed = await OnlyAsync(client);
        Assert.Equal(webhook, listed.GetProperty("webhook_id").GetString());
        Assert.Equal([Id(1)], listed.GetProperty("prospect_ids").Strings());
        Assert.Equal(["prospect_changed_role"], listed.GetProperty("event_types").Strings());
    }

    [Fact]
    public async Task AMissingWebhookIdIs422()
    {
        var (_, client, _) = await PartnerWithWebhookAsync();

        var error = await CreateAsync(client, $$"""{"enrollment_key":"nowhere","event_types":["prospect_changed_role"],"prospect_ids":["{{Id(1)}}"]}""", 422);

        Assert.Equal(("body.webhook_id", "missing"), Problem(error));
        Assert.Empty(await ListEnrollmentsV2Async(client));
    }

    [Fact]
    public async Task AnUnknownWebhookIdIs404()
    {
        var (_, client, _) = await PartnerWithWebhookAsync();

        var error = await CreateAsync(client, EnrollmentV2("nowhere", "wh_0000000000000000", [Id(1)]), 404);

        Assert.Contains("wh_0000000000000000", error.GetProperty("detail").GetString());
        Assert.Empty(await ListEnrollmentsV2Async(client));
    }

    [Fact]
    public async Task AnotherPartnersWebhookIs422AtWebhookId()
    {
        var (_, alice, _) = await PartnerWithWebhookAsync("alice");
        var (_, _, bobs) = await PartnerWithWebhookAsync("bob");

        var error = await CreateAsync(alice, EnrollmentV2("borrowed", bobs, [Id(1)]), 422);

        var problem = Assert.Single(error.GetProperty("detail").EnumerateArray());
        Assert.Equal(["body", "webhook_id"], problem.GetProperty("loc").Strings());
        Assert.Empty(await ListEnrollmentsV2Async(alice));
    }

    [Fact]
    public async Task ADisabledWebhookIs422AtWebhookIdAndActiveAgainIsAccepted()
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();
        await (await client.SendJsonAsync(HttpMethod.Patch, $"{WebhooksPath}/{webhook}", """{"status":"disabled"}""")).ExpectAsync(200);

        var error = await CreateAsync(client, EnrollmentV2("sleepy", webhook, [Id(1)]), 422);

        var problem = Assert.Single(error.GetProperty("detail").EnumerateArray());
        Assert.Equal(["body", "webhook_id"], problem.GetProperty("loc").Strings());
        Assert.Empty(await ListEnrollmentsV2Async(client));
        await (await client.SendJsonAsync(HttpMethod.Patch, $"{WebhooksPath}/{webhook}", """{"status":"active"}""")).ExpectAsync(200);
        await CreateAsync(client, EnrollmentV2("sleepy", webhook, [Id(1)]));
    }

    [Fact]
    public async Task AThousandProspectIdsAreAcceptedInOneRequest()
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();
        var ids = Enumerable.Range(1, 1000).Select(Id).ToArray();

        await CreateAsync(client, EnrollmentV2("bulk", webhook, ids));

        Assert.Equal(ids, (await OnlyAsync(client)).GetProperty("prospect_ids").Strings().Order());
        // No limit across requests.
        await CreateAsync(client, EnrollmentV2("bulk", webhook, Enumerable.Range(1001, 1000).Select(Id).ToArray()), 200);
        Assert.Equal(2000, (await OnlyAsync(client)).GetProperty("prospect_ids").GetArrayLength());
    }

    [Fact]
    public async Task MoreThanAThousandEventTypesAre422()
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();
        var types = string.Join(",", Enumerable.Repeat("\"prospect_changed_role\"", 1001));

        var error = await CreateAsync(client, EnrollmentV2("many_types", webhook, [Id(1)], types), 422);

        Assert.Equal(("body.event_types", "too_long"), Problem(error));
        await CreateAsync(client, EnrollmentV2("many_types", webhook, [Id(1)], string.Join(",", Enumerable.Repeat("\"prospect_changed_role\"", 1000))));
    }

    [Fact]
    public async Task ConcurrentCreatesOfOneNewKeyMakeOneEnrollmentBoundToOneWebhook()
    {
        var (_, client, first) = await PartnerWithWebhookAsync();
        var second = await CreateWebhookIdAsync(client, "second", Url + "/second");
        var posts = Enumerable.Range(0, 40).Select(i => client.PostJsonAsync(EnrollmentsV2Path, EnrollmentV2("race", i % 2 == 0 ? first : second, [Id(i + 1)])));

        var responses = await Task.WhenAll(posts);

        var bodies = await Task.WhenAll(responses.Select(async r => ((int)r.StatusCode, await r.JsonAsync())));
        var listed = await OnlyAsync(client);
        var bound = listed.GetProperty("webhook_id").GetString();
        Assert.Single(bodies, b => b.Item1 == 201);
        Assert.All(bodies.Where(b => b.Item1 is 200 or 201), b => Assert.Equal(bound, b.Item2.GetProperty("webhook_id").GetString()));
        Assert.Equal(20, bodies.Count(b => b.Item1 is 200 or 201));
        Assert.Equal(20, bodies.Count(b => b.Item1 == 409));
        Assert.Equal(20, listed.GetProperty("prospect_ids").GetArrayLength());
    }

    [Fact]
    public async Task AV2CreateRacingAV1CreateOfTheSameKeyNeverClaimsTheV1Enrollment()
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync(); // no v1 webhook: a v1 enrollment delivers to none of the v2 ones
        var posts = Enumerable.Range(0, 40).Select(i => i % 2 == 0
            ? client.PostJsonAsync(EnrollmentsPath, $$"""{"enrollment_key":"race","event_types":["prospect_changed_role"],"prospect_ids":["{{Id(i + 1)}}"]}""")
            : client.PostJsonAsync(EnrollmentsV2Path, EnrollmentV2("race", webhook, [Id(i + 1)])));

        var responses = await Task.WhenAll(posts);

        var listed = await OnlyAsync(client);
        var v2 = await Task.WhenAll(responses.Where((_, i) => i % 2 == 1).Select(async r => ((int)r.StatusCode, await r.JsonAsync())));
        if (listed.GetProperty("webhook_id").ValueKind == JsonValueKind.Null)
        {
            Assert.All(v2, r => Assert.Equal(409, r.Item1)); // v1 made it: every v2 post names another webhook
            Assert.Equal(20, listed.GetProperty("prospect_ids").GetArrayLength());
        }
        else
        {
            Assert.Equal(webhook, listed.GetProperty("webhook_id").GetString());
            Assert.Equal(1, v2.Count(r => r.Item1 == 201));
            Assert.All(v2, r => Assert.Contains(r.Item1, new[] { 200, 201 }));
            Assert.Equal(40, listed.GetProperty("prospect_ids").GetArrayLength());
        }
    }

    [Fact]
    public async Task AThousandAndOneProspectIdsAre422()
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();

        var error = await CreateAsync(client, EnrollmentV2("too_big", webhook, Enumerable.Range(1, 1001).Select(Id).ToArray()), 422);

        Assert.Equal(("body.prospect_ids", "too_long"), Problem(error));
        Assert.Empty(await ListEnrollmentsV2Async(client));
    }

    [Theory]
    [InlineData("\"new_funding_round\"")]
    [InlineData("\"executive_joined_company\"")]
    [InlineData("\"prospect_changed_role\",\"hiring_in_sales_department\"")]
    public async Task BusinessEventTypesAre422(string types)
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();

        var error = await CreateAsync(client, EnrollmentV2("businesses", webhook, [Id(1)], types), 422);

        var (loc, type) = Problem(error);
        Assert.StartsWith("body.event_types", loc);
        Assert.Equal("enum", type);
        Assert.Empty(await ListEnrollmentsV2Async(client));
    }

    [Theory]
    [InlineData("""{"enrollment_key":"abc","webhook_id":"W","event_types":["prospect_changed_role"],"prospect_ids":["P"]}""", "body.enrollment_key", "string_too_short")]
    [InlineData("""{"enrollment_key":"abcd","webhook_id":"W","event_types":[],"prospect_ids":["P"]}""", "body.event_types", "too_short")]
    [InlineData("""{"enrollment_key":"abcd","webhook_id":"W","prospect_ids":["P"]}""", "body.event_types", "missing")]
    [InlineData("""{"enrollment_key":"abcd","webhook_id":"W","event_types":["prospect_changed_role"],"prospect_ids":[]}""", "body.prospect_ids", "too_short")]
    [InlineData("""{"enrollment_key":"abcd","webhook_id":"W","event_types":["prospect_changed_role"],"prospect_ids":["XYZ"]}""", "body.prospect_ids.0", "string_pattern_mismatch")]
    [InlineData("""{"webhook_id":"W","event_types":["prospect_changed_role"],"prospect_ids":["P"]}""", "body.enrollment_key", "missing")]
    [InlineData("""{"enrollment_key":"abcd","webhook_id":"W","event_types":["prospect_changed_role"],"prospect_ids":["P"],"partner_id":"x"}""", "body.partner_id", "extra_forbidden")]
    [InlineData("""{"enrollment_key":"abcd","webhook_id":"W","event_types":["prospect_changed_role"],"prospect_ids":["P"],"status":"paused"}""", "body.status", "extra_forbidden")]
    [InlineData("""{"enrollment_key":"abcd","webhook_id":"W","event_types":["prospect_changed_role"],"prospect_ids":["P"],"enrollment_id":"en_0000000000000000"}""", "body.enrollment_id", "extra_forbidden")]
    public async Task AnInvalidCreateIs422AtTheField(string body, string loc, string type)
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();

        var error = await CreateAsync(client, body.Replace("\"W\"", $"\"{webhook}\"").Replace("\"P\"", $"\"{Id(1)}\""), 422);

        Assert.Equal((loc, type), Problem(error));
        Assert.Empty(await ListEnrollmentsV2Async(client));
    }

    [Fact]
    public async Task AnEnrollmentMayUseTheLegacyWebhookById()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        await (await client.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{partner}}","webhook_url":"{{Url}}"}""")).ExpectAsync(200);
        var legacy = Assert.Single(await ListWebhooksAsync(client)).GetProperty("webhook_id").GetString()!;

        var created = await CreateAsync(client, EnrollmentV2("on_legacy", legacy, [Id(1)]));

        Assert.Equal(legacy, created.GetProperty("webhook_id").GetString());
    }

    // ---- list, and one set of enrollments through both versions ----

    [Fact]
    public async Task AV1EnrollmentIsListedWithTheLegacyWebhookIdOnceRegisteredAndActive()
    {
        var (partner, client, webhook) = await PartnerWithWebhookAsync();
        var v1 = await EnrollV1Async(client, "made_in_v1", "prospect_changed_company", Id(1));
        var v2 = (await CreateAsync(client, EnrollmentV2("made_in_v2", webhook, [Id(2)]))).GetProperty("enrollment_id").GetString()!;

        var before = (await ListEnrollmentsV2Async(client)).ToDictionary(e => e.GetProperty("enrollment_id").GetString()!);

        Assert.Equal(JsonValueKind.Null, before[v1].GetProperty("webhook_id").ValueKind); // no v1 webhook registered
        Assert.Equal("active", before[v1].GetProperty("status").GetString());
        Assert.Equal([Id(1)], before[v1].GetProperty("prospect_ids").Strings());
        Assert.Equal(webhook, before[v2].GetProperty("webhook_id").GetString());

        await (await client.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{partner}}","webhook_url":"{{Url}}/v1"}""")).ExpectAsync(200);
        var legacy = (await ListWebhooksAsync(client)).Single(w => w.GetProperty("legacy").GetBoolean()).GetProperty("webhook_id").GetString();
        var after = (await ListEnrollmentsV2Async(client)).ToDictionary(e => e.GetProperty("enrollment_id").GetString()!);

        Assert.Equal(legacy, after[v1].GetProperty("webhook_id").GetString());
        Assert.Equal("active", after[v1].GetProperty("status").GetString());
        Assert.Equal(webhook, after[v2].GetProperty("webhook_id").GetString());
        Assert.All(after.Values, e => Assert.True(e.TryGetProperty("status", out _) && e.TryGetProperty("webhook_id", out _)));
    }

    [Fact]
    public async Task AV2EnrollmentAppearsInTheV1ListAndV1CanChangeIt()
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();
        var created = await CreateAsync(client, EnrollmentV2("made_in_v2", webhook, [Id(1), Id(2)], "\"prospect_changed_company\""));
        var id = created.GetProperty("enrollment_id").GetString()!;

        var v1 = Assert.Single(await ListV1Async(client));

        Assert.Equal(id, v1.GetProperty("enrollment_id").GetString());
        Assert.Equal("made_in_v2", v1.GetProperty("enrollment_key").GetString());
        Assert.Equal(["prospect_changed_company"], v1.GetProperty("event_types").Strings());
        Assert.Equal([Id(1), Id(2)], v1.GetProperty("prospect_ids").Strings().Order());

        // A v1 post of the same key adds to it and keeps its webhook.
        await EnrollV1Async(client, "made_in_v2", "prospect_changed_role", Id(3));
        var listed = await OnlyAsync(client);
        Assert.Equal(webhook, listed.GetProperty("webhook_id").GetString());
        Assert.Equal([Id(1), Id(2), Id(3)], listed.GetProperty("prospect_ids").Strings().Order());
    }

    [Fact]
    public async Task TheV2ListHasNoPagingFieldsByDefault()
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();
        for (var i = 0; i < 3; i++) await CreateAsync(client, EnrollmentV2($"key_{i}", webhook, [Id(i + 1)]));

        var body = await (await client.GetAsync(EnrollmentsV2Path)).ExpectAsync(200);

        Assert.Equal(["enrollments", "response_context"], body.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(3, body.GetProperty("enrollments").GetArrayLength());
    }

    [Fact]
    public async Task TheV2ListPagesOnRequestAsV1Does()
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();
        for (var i = 0; i < 5; i++)
        {
            await CreateAsync(client, EnrollmentV2($"key_{i}", webhook, [Id(i + 1)]));
            _server.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        var page = await (await client.GetAsync(EnrollmentsV2Path + "?page=2&page_size=2")).ExpectAsync(200);

        AssertV2Context(page);
        Assert.Equal(["key_2", "key_3"], page.GetProperty("enrollments").EnumerateArray().Select(e => e.GetProperty("enrollment_key").GetString()));
        Assert.True(page.GetProperty("has_more").GetBoolean());
        Assert.All(page.GetProperty("enrollments").EnumerateArray(), e => Assert.Equal(webhook, e.GetProperty("webhook_id").GetString()));
        var error = await (await client.GetAsync(EnrollmentsV2Path + "?page_size=1001")).ExpectAsync(422);
        Assert.Equal(("query.page_size", "less_than_equal"), Problem(error));
    }

    // ---- patch ----

    [Fact]
    public async Task PatchChangesOnlyTheFieldItNamesAndProspectIdsReplace()
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();
        var other = await CreateWebhookIdAsync(client, "other", Url + "/other");
        var id = (await CreateAsync(client, EnrollmentV2("before", webhook, [Id(1), Id(2)]))).GetProperty("enrollment_id").GetString()!;

        var renamed = await PatchAsync(client, id, """{"enrollment_key":"after"}""");
        Assert.Equal("after", renamed.GetProperty("enrollment_key").GetString());
        Assert.Equal(id, renamed.GetProperty("enrollment_id").GetString());
        Assert.Equal(webhook, renamed.GetProperty("webhook_id").GetString());
        Assert.Equal("active", renamed.GetProperty("status").GetString());
        var listed = await OnlyAsync(client);
        Assert.Equal("after", listed.GetProperty("enrollment_key").GetString());
        Assert.Equal(["prospect_changed_role"], listed.GetProperty("event_types").Strings());
        Assert.Equal([Id(1), Id(2)], listed.GetProperty("prospect_ids").Strings().Order());

        await PatchAsync(client, id, """{"event_types":["prospect_job_start_anniversary","prospect_changed_company"]}""");
        listed = await OnlyAsync(client);
        Assert.Equal(["prospect_changed_company", "prospect_job_start_anniversary"], listed.GetProperty("event_types").Strings().Order());
        Assert.Equal([Id(1), Id(2)], listed.GetProperty("prospect_ids").Strings().Order());
        Assert.Equal("after", listed.GetProperty("enrollment_key").GetString());

        await PatchAsync(client, id, $$"""{"prospect_ids":["{{Id(3)}}"]}""");
        listed = await OnlyAsync(client);
        Assert.Equal([Id(3)], listed.GetProperty("prospect_ids").Strings());
        Assert.Equal(["prospect_changed_company", "prospect_job_start_anniversary"], listed.GetProperty("event_types").Strings().Order());
        Assert.Equal(webhook, listed.GetProperty("webhook_id").GetString());

        var repointed = await PatchAsync(client, id, $$"""{"webhook_id":"{{other}}"}""");
        Assert.Equal(other, repointed.GetProperty("webhook_id").GetString());
        listed = await OnlyAsync(client);
        Assert.Equal(other, listed.GetProperty("webhook_id").GetString());
        Assert.Equal("after", listed.GetProperty("enrollment_key").GetString());
        Assert.Equal([Id(3)], listed.GetProperty("prospect_ids").Strings());
        Assert.Equal("active", listed.GetProperty("status").GetString());
    }

    [Fact]
    public async Task PatchOfAnUnknownEnrollmentIs404()
    {
        var (_, client, _) = await PartnerWithWebhookAsync();

        var error = await PatchAsync(client, "en_0000000000000000", """{"enrollment_key":"nothing"}""", 404);

        Assert.Contains("en_0000000000000000", error.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task PatchToAKeyAnotherEnrollmentHasIsAConflictAndChangesNothing()
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();
        await CreateAsync(client, EnrollmentV2("first", webhook, [Id(1)]));
        var second = (await CreateAsync(client, EnrollmentV2("second", webhook, [Id(2)]))).GetProperty("enrollment_id").GetString()!;

        await PatchAsync(client, second, $$"""{"enrollment_key":"first","prospect_ids":["{{Id(3)}}"]}""", 409);

        var listed = (await ListEnrollmentsV2Async(client)).ToDictionary(e => e.GetProperty("enrollment_id").GetString()!);
        Assert.Equal("second", listed[second].GetProperty("enrollment_key").GetString());
        Assert.Equal([Id(2)], listed[second].GetProperty("prospect_ids").Strings());
    }

    [Fact]
    public async Task PatchToAnUnknownWebhookIs404AndToAnotherPartnersOrADisabledOneIs422()
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();
        var disabled = await CreateWebhookIdAsync(client, "disabled", Url + "/disabled");
        await (await client.SendJsonAsync(HttpMethod.Patch, $"{WebhooksPath}/{disabled}", """{"status":"disabled"}""")).ExpectAsync(200);
        var (_, _, bobs) = await PartnerWithWebhookAsync("bob");
        var id = (await CreateAsync(client, EnrollmentV2("bound", webhook, [Id(1)]))).GetProperty("enrollment_id").GetString()!;

        await PatchAsync(client, id, """{"webhook_id":"wh_0000000000000000"}""", 404);
        foreach (var unusable in new[] { disabled, bobs })
        {
            var error = await PatchAsync(client, id, $$"""{"webhook_id":"{{unusable}}"}""", 422);
            Assert.Equal(["body", "webhook_id"], Assert.Single(error.GetProperty("detail").EnumerateArray()).GetProperty("loc").Strings());
        }

        Assert.Equal(webhook, (await OnlyAsync(client)).GetProperty("webhook_id").GetString());
    }

    [Theory]
    [InlineData("""{"enrollment_key":"abc"}""", "body.enrollment_key", "string_too_short")]
    [InlineData("""{"event_types":["new_funding_round"]}""", "body.event_types.0", "enum")]
    [InlineData("""{"event_types":[]}""", "body.event_types", "too_short")]
    [InlineData("""{"prospect_ids":[]}""", "body.prospect_ids", "too_short")]
    [InlineData("""{"status":"active"}""", "body.status", "extra_forbidden")]
    [InlineData("""{"enrollment_id":"en_0000000000000000"}""", "body.enrollment_id", "extra_forbidden")]
    [InlineData("""{"colour":"red"}""", "body.colour", "extra_forbidden")]
    public async Task AnInvalidPatchIs422AtTheFieldAndChangesNothing(string body, string loc, string type)
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();
        var id = (await CreateAsync(client, EnrollmentV2("stable", webhook, [Id(1)]))).GetProperty("enrollment_id").GetString()!;

        var error = await PatchAsync(client, id, body, 422);

        Assert.Equal((loc, type), Problem(error));
        var listed = await OnlyAsync(client);
        Assert.Equal("stable", listed.GetProperty("enrollment_key").GetString());
        Assert.Equal([Id(1)], listed.GetProperty("prospect_ids").Strings());
    }

    [Fact]
    public async Task PatchWithAThousandAndOneProspectIdsIs422()
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();
        var id = (await CreateAsync(client, EnrollmentV2("stable", webhook, [Id(1)]))).GetProperty("enrollment_id").GetString()!;

        var error = await PatchAsync(client, id, $$"""{"prospect_ids":[{{Ids(Enumerable.Range(1, 1001).Select(Id))}}]}""", 422);

        Assert.Equal(("body.prospect_ids", "too_long"), Problem(error));
        await PatchAsync(client, id, $$"""{"prospect_ids":[{{Ids(Enumerable.Range(1, 1000).Select(Id))}}]}""");
        Assert.Equal(1000, (await OnlyAsync(client)).GetProperty("prospect_ids").GetArrayLength());
    }

    [Fact]
    public async Task AV1EnrollmentCanBePatchedByPathInV2()
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();
        var id = await EnrollV1Async(client, "made_in_v1", "prospect_changed_company", Id(1));

        var patched = await PatchAsync(client, id, $$"""{"webhook_id":"{{webhook}}"}""");

        Assert.Equal(webhook, patched.GetProperty("webhook_id").GetString());
        Assert.Equal("active", patched.GetProperty("status").GetString());
        Assert.Equal(webhook, (await OnlyAsync(client)).GetProperty("webhook_id").GetString());
    }

    // ---- delete ----

    [Fact]
    public async Task DeleteByPathWithNoBodyAnswersSuccessAndRemovesOnlyThatEnrollment()
    {
        var (_, client, webhook) = await PartnerWithWebhookAsync();
        var doomed = (await CreateAsync(client, EnrollmentV2("doomed", webhook, [Id(1)]))).GetProperty("enrollment_id").GetString()!;
        var kept = (await CreateAsync(client, EnrollmentV2("kept", webhook, [Id(2)]))).GetProperty("enrollment_id").GetString()!;

        var deleted = await (await client.DeleteAsync(PathOf(doomed))).ExpectAsync(200);

        AssertV2Context(deleted);
        Assert.Equal(["response_context", "status"], deleted.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("success", deleted.GetProperty("status").GetString());
        Assert.Equal(kept, (await OnlyAsync(client)).GetProperty("enrollment_id").GetString());
        Assert.Equal(kept, Assert.Single(await ListV1Async(client)).GetProperty("enrollment_id").GetString());
        await (await client.GetAsync($"{WebhooksPath}/{webhook}")).ExpectAsync(200); // the webhook is not affected
        await (await client.DeleteAsync(PathOf(doomed))).ExpectAsync(404);
    }

    [Fact]
    public async Task DeleteOfAnUnknownEnrollmentIs404()
    {
        var (_, client, _) = await PartnerWithWebhookAsync();

        var error = await (await client.DeleteAsync(PathOf("en_0000000000000000"))).ExpectAsync(404);

        Assert.Contains("en_0000000000000000", error.GetProperty("detail").GetString());
    }

    // ---- partner isolation ----

    [Fact]
    public async Task APartnerCannotSeeChangeOrDeleteAnotherPartnersEnrollment()
    {
        var (_, alice, alicesWebhook) = await PartnerWithWebhookAsync("alice");
        var (_, bob, bobsWebhook) = await PartnerWithWebhookAsync("bob");
        var id = (await CreateAsync(alice, EnrollmentV2("alices", alicesWebhook, [Id(1)]))).GetProperty("enrollment_id").GetString()!;
        var before = await DatabaseSnapshot.TakeAsync(_server.Store);

        Assert.Empty(await ListEnrollmentsV2Async(bob));
        await PatchAsync(bob, id, """{"enrollment_key":"stolen"}""", 404);
        await PatchAsync(bob, id, $$"""{"webhook_id":"{{bobsWebhook}}"}""", 404);
        await PatchAsync(bob, id, $$"""{"prospect_ids":["{{Id(9)}}"]}""", 404);
        await (await bob.DeleteAsync(PathOf(id))).ExpectAsync(404);
        Assert.Equal(before, await DatabaseSnapshot.TakeAsync(_server.Store));
        // The same key under Bob is an enrollment of his own.
        var bobs = await CreateAsync(bob, EnrollmentV2("alices", bobsWebhook, [Id(2)]));
        Assert.NotEqual(id, bobs.GetProperty("enrollment_id").GetString());

        var listed = await OnlyAsync(alice);
        Assert.Equal("alices", listed.GetProperty("enrollment_key").GetString());
        Assert.Equal(alicesWebhook, listed.GetProperty("webhook_id").GetString());
        Assert.Equal([Id(1)], listed.GetProperty("prospect_ids").Strings());
    }
}

public sealed class SqliteEnrollmentsV2Tests() : EnrollmentsV2Contract(Backend.Sqlite);

public sealed class PostgresEnrollmentsV2Tests() : EnrollmentsV2Contract(Backend.Postgres);
